import Domain
import Foundation
import Persistence
import PostgresClient
import Testing

/// The schema rejects bad rows by itself: these statements go straight to the database, as from psql.
@Suite("Schema constraints")
struct SchemaConstraintTests {
    /// Runs `sql` and returns the error it must fail with.
    func failure(_ pool: PostgresPool, _ sql: String, _ binds: [any PostgresEncodable] = []) async -> PostgresError? {
        await #expect(throws: PostgresError.self, "\(sql)") { _ = try await pool.query(sql, binds) }
    }

    /// A recruiter (id 1 of its database) and a city (id 1), inserted by plain SQL.
    func seed(_ pool: PostgresPool) async throws -> (recruiter: Int64, city: Int64) {
        let recruiter = try await pool.query("INSERT INTO recruiters (name) VALUES ('Anna') RETURNING id")
        let city = try await pool.query(
            "INSERT INTO cities (name, time_zone) VALUES ('Moscow', 'Europe/Moscow') RETURNING id"
        )
        return (try recruiter[0].decode("id", as: Int64.self), try city[0].decode("id", as: Int64.self))
    }

    static let insertSlot = """
        INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id,
                           reserved_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
        """

    @Test(
        arguments: [
            // status, duration, candidate, reserved until (minutes after base), violated constraint
            ("LOST", 30, nil, nil, "slots_status_check"),
            ("FREE", 0, nil, nil, "slots_duration_check"),
            ("FREE", 481, nil, nil, "slots_duration_check"),
            ("FREE", 30, 42, nil, "slots_candidate_check"),
            ("FREE", 30, nil, -5, "slots_reservation_check"),
            ("RESERVED", 30, 42, nil, "slots_reservation_check"),
            ("RESERVED", 30, nil, -5, "slots_candidate_check"),
            ("RESERVED", 30, -3, -5, "slots_candidate_telegram_id_check"),
            ("BOOKED", 30, nil, nil, "slots_candidate_check"),
            ("CONFIRMED", 30, nil, nil, "slots_candidate_check"),
            ("BOOKED", 30, 42, -5, "slots_reservation_check"),
        ] as [(String, Int, Int64?, Double?, String)]
    )
    func badSlotRowsAreRejected(
        status: String,
        duration: Int,
        candidate: Int64?,
        reservedMinutes: Double?,
        constraint: String
    ) async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await seed(database.pool)
            let binds: [any PostgresEncodable] = [
                recruiter, city, base, duration, status, candidate, reservedMinutes.map { at(minutes: $0) },
            ]
            let error = await failure(database.pool, Self.insertSlot, binds)
            #expect(error?.kind == .checkViolation)
            #expect(error?.constraint == constraint)
        }
    }

    @Test func goodSlotRowsAreAccepted() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await seed(database.pool)
            let rows: [(String, Int64?, Double?)] = [
                ("FREE", nil, nil), ("RESERVED", 42, -5), ("BOOKED", 42, nil), ("CONFIRMED", 42, nil),
                ("CANCELED", nil, nil), ("CANCELED", 42, nil), ("EXPIRED", 42, nil),
            ]
            for (index, (status, candidate, reserved)) in rows.enumerated() {
                let binds: [any PostgresEncodable] = [
                    recruiter, city, at(minutes: Double(index) * 60), 30, status, candidate,
                    reserved.map { at(minutes: $0) },
                ]
                _ = try await database.pool.query(Self.insertSlot, binds)
            }
            let count = try await database.pool.query("SELECT count(*) AS n FROM slots")
            #expect(try count[0].decode("n", as: Int.self) == rows.count)
        }
    }

    @Test func foreignKeysAndUniqueStartsAreEnforced() async throws {
        try await withDatabase { database throws in
            let pool = database.pool
            let (recruiter, city) = try await seed(pool)
            let unknownRecruiter = await failure(
                pool, Self.insertSlot, [999, city, base, 30, "FREE", Int64?.none, Date?.none])
            #expect(unknownRecruiter?.kind == .foreignKeyViolation)
            #expect(unknownRecruiter?.constraint == "slots_recruiter_id_fkey")
            let unknownCity = await failure(
                pool, Self.insertSlot, [recruiter, 999, base, 30, "FREE", Int64?.none, Date?.none])
            #expect(unknownCity?.constraint == "slots_city_id_fkey")

            _ = try await pool.query(Self.insertSlot, [recruiter, city, base, 30, "FREE", Int64?.none, Date?.none])
            let duplicate = await failure(
                pool, Self.insertSlot, [recruiter, city, base, 60, "FREE", Int64?.none, Date?.none])
            #expect(duplicate?.kind == .uniqueViolation)
            #expect(duplicate?.constraint == "slots_recruiter_starts_at_key")
            // A canceled slot frees its start for a new one.
            _ = try await pool.query("UPDATE slots SET status = 'CANCELED'")
            _ = try await pool.query(Self.insertSlot, [recruiter, city, base, 60, "FREE", Int64?.none, Date?.none])

            let deleteRecruiter = await failure(pool, "DELETE FROM recruiters WHERE id = $1", [recruiter])
            #expect(deleteRecruiter?.kind == .foreignKeyViolation)
            #expect(deleteRecruiter?.constraint == "slots_recruiter_id_fkey")
            let deleteCity = await failure(pool, "DELETE FROM cities WHERE id = $1", [city])
            #expect(deleteCity?.constraint == "slots_city_id_fkey")
        }
    }

    @Test func statusTransitionsFollowTheDomainTable() async throws {
        try await withDatabase { database throws in
            for from in SlotStatus.allCases {
                for to in SlotStatus.allCases {
                    let rows = try await database.pool.query(
                        "SELECT slot_status_transition_allowed($1, $2) AS ok",
                        [from.rawValue, to.rawValue]
                    )
                    let allowed = try rows[0].decode("ok", as: Bool.self)
                    #expect(allowed == (from == to || from.canTransition(to: to)), "\(from) → \(to)")
                }
            }
        }
    }

    @Test func triggerRejectsForbiddenTransitionsAndMaintainsTimestamps() async throws {
        try await withDatabase { database throws in
            let pool = database.pool
            let (recruiter, city) = try await seed(pool)
            let inserted = try await pool.query(
                Self.insertSlot + ", created_at, updated_at",
                [recruiter, city, base, 30, "EXPIRED", Int64?.none, Date?.none]
            )
            let id = try inserted[0].decode("id", as: Int64.self)
            let createdAt = try inserted[0].decode("created_at", as: Date.self)

            let reopen = await failure(pool, "UPDATE slots SET status = 'FREE' WHERE id = $1", [id])
            #expect(reopen?.kind == .checkViolation)
            #expect(reopen?.constraint == "slots_status_transition")
            #expect(reopen?.message == "slot \(id) cannot go from EXPIRED to FREE")

            let updated = try await pool.query(
                "UPDATE slots SET duration_minutes = 45, created_at = $2 WHERE id = $1 RETURNING created_at, updated_at",
                [id, base]
            )
            #expect(try updated[0].decode("created_at", as: Date.self) == createdAt)
            #expect(try updated[0].decode("updated_at", as: Date.self) >= createdAt)
        }
    }

    @Test func cityTimeZonesAreValidatedAgainstTheTzDatabase() async throws {
        try await withDatabase { database throws in
            let pool = database.pool
            let sql = "INSERT INTO cities (name, time_zone) VALUES ($1, $2)"
            let unknown = await failure(pool, sql, ["Atlantis", "Atlantis/Capital"])
            #expect(unknown?.kind == .checkViolation)
            #expect(unknown?.constraint == "cities_time_zone_valid")
            #expect(unknown?.message == "unknown IANA time zone \"Atlantis/Capital\"")
            let empty = await failure(pool, sql, ["Nowhere", ""])
            #expect(empty?.constraint == "cities_time_zone_check")
            let blank = await failure(pool, sql, ["  ", "UTC"])
            #expect(blank?.constraint == "cities_name_check")
            _ = try await pool.query(sql, ["Novosibirsk", "Asia/Novosibirsk"])
            let duplicate = await failure(pool, sql, ["Novosibirsk", "UTC"])
            #expect(duplicate?.constraint == "cities_name_key")
            let update = await failure(pool, "UPDATE cities SET time_zone = 'Mars/Olympus'")
            #expect(update?.constraint == "cities_time_zone_valid")
        }
    }

    @Test func otherTablesRejectBadRows() async throws {
        try await withDatabase { database throws in
            let pool = database.pool
            let (recruiter, city) = try await seed(pool)
            let slot = try await pool.query(
                Self.insertSlot, [recruiter, city, base, 30, "FREE", Int64?.none, Date?.none])
            let slotID = try slot[0].decode("id", as: Int64.self)

            let cases: [(String, [any PostgresEncodable], PostgresError.Kind, String)] = [
                ("INSERT INTO recruiters (name) VALUES ($1)", [" "], .checkViolation, "recruiters_name_check"),
                (
                    "INSERT INTO users (telegram_id, name) VALUES ($1, $2)", [0, "Ivan"], .checkViolation,
                    "users_telegram_id_check"
                ),
                (
                    "INSERT INTO users (telegram_id, name) VALUES ($1, $2)", [7, ""], .checkViolation,
                    "users_name_check"
                ),
                (
                    "INSERT INTO users (telegram_id, name, phone) VALUES ($1, $2, $3)", [7, "Ivan", "call me"],
                    .checkViolation, "users_phone_check"
                ),
                (
                    "INSERT INTO message_templates (key, body) VALUES ($1, $2)", ["Bad Key", "x"], .checkViolation,
                    "message_templates_key_check"
                ),
                (
                    "INSERT INTO message_templates (key, body) VALUES ($1, $2)", ["greeting", " "], .checkViolation,
                    "message_templates_body_check"
                ),
                (
                    "INSERT INTO message_templates (key, locale, body) VALUES ($1, $2, $3)",
                    ["greeting", "russian", "x"],
                    .checkViolation, "message_templates_locale_check"
                ),
                (
                    "INSERT INTO message_templates (key, city_id, body) VALUES ($1, $2, $3)", ["greeting", 999, "x"],
                    .foreignKeyViolation, "message_templates_city_id_fkey"
                ),
                (
                    "INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at) VALUES ($1, 0, now(), now())",
                    [slotID], .checkViolation, "reminders_offset_check"
                ),
                (
                    "INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at) VALUES ($1, 60, now(), now())",
                    [999], .foreignKeyViolation, "reminders_slot_id_fkey"
                ),
                (
                    "INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at, state) "
                        + "VALUES ($1, 60, now(), now(), 'skipped')",
                    [slotID], .checkViolation, "reminders_reason_check"
                ),
                (
                    "INSERT INTO slot_events (slot_id, kind) VALUES ($1, $2)", [slotID, "vanished"], .checkViolation,
                    "slot_events_kind_check"
                ),
                (
                    "INSERT INTO recruiter_cities (recruiter_id, city_id) VALUES ($1, $2)", [recruiter, 999],
                    .foreignKeyViolation, "recruiter_cities_city_id_fkey"
                ),
            ]
            for (sql, binds, kind, constraint) in cases {
                let error = await failure(pool, sql, binds)
                #expect(error?.kind == kind, "\(sql)")
                #expect(error?.constraint == constraint, "\(sql)")
            }

            // NULLS NOT DISTINCT: one default (no city, no locale) per key.
            _ = try await pool.query("INSERT INTO message_templates (key, body) VALUES ('greeting', 'Hi')")
            let second = await failure(pool, "INSERT INTO message_templates (key, body) VALUES ('greeting', 'Hey')")
            #expect(second?.constraint == "message_templates_key_city_locale_key")
            let reminder =
                "INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at) VALUES ($1, 60, $2, $2)"
            _ = try await pool.query(reminder, [slotID, base])
            let twice = await failure(pool, reminder, [slotID, base])
            #expect(twice?.constraint == "reminders_identity_key")
        }
    }

    @Test func deletesCascadeWhereHistoryBelongsToTheParent() async throws {
        try await withDatabase { database throws in
            let pool = database.pool
            let (recruiter, city) = try await seed(pool)
            _ = try await pool.query("INSERT INTO recruiter_cities VALUES ($1, $2)", [recruiter, city])
            _ = try await pool.query(
                "INSERT INTO message_templates (key, city_id, body) VALUES ('greeting', $1, 'Privet')",
                [city]
            )
            let slot = try await pool.query(
                Self.insertSlot, [recruiter, city, base, 30, "FREE", Int64?.none, Date?.none])
            let slotID = try slot[0].decode("id", as: Int64.self)
            _ = try await pool.query(
                "INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at) VALUES ($1, 60, now(), now())",
                [slotID])
            _ = try await pool.query("INSERT INTO slot_events (slot_id, kind) VALUES ($1, 'published')", [slotID])

            _ = try await pool.query("DELETE FROM slots WHERE id = $1", [slotID])
            _ = try await pool.query("DELETE FROM cities WHERE id = $1", [city])
            let counts = try await pool.query(
                """
                SELECT (SELECT count(*) FROM reminders) AS reminders, (SELECT count(*) FROM slot_events) AS events,
                       (SELECT count(*) FROM message_templates WHERE city_id IS NOT NULL) AS templates,
                       (SELECT count(*) FROM recruiter_cities) AS links
                """
            )
            for column in ["reminders", "events", "templates", "links"] {
                #expect(try counts[0].decode(column, as: Int.self) == 0, "\(column)")
            }
        }
    }
}
