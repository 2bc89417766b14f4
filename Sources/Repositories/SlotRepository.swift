public import Domain
import Foundation
public import Persistence
public import PostgresClient

/// How ``Slot`` maps to `slots`.
///
/// `created_at` and `updated_at` are read-only here: the database sets them (a trigger keeps `updated_at` current
/// and rejects status changes ``SlotStatus/canTransition(to:)`` forbids, as `.validation(field:
/// "slots_status_transition")`).
public enum SlotTable: TableMapping {
    public typealias Model = Slot
    public typealias ID = Int64

    public static let repositoryName = "slots"
    public static let entityName = "Slot"
    public static let table = "slots"
    public static let writableColumns = [
        "recruiter_id", "city_id", "starts_at", "duration_minutes", "status", "candidate_telegram_id",
        "reserved_until",
    ]
    public static let readableColumns = ["id"] + writableColumns + ["created_at", "updated_at"]

    public static func id(of model: Slot) -> Int64? { model.id }

    public static func binds(_ model: Slot) -> [any PostgresEncodable] {
        [
            model.recruiterID, model.cityID, model.startsAt, model.durationMinutes, model.status.rawValue,
            model.candidateTelegramID, model.reservedUntil,
        ]
    }

    public static func decode(_ row: PostgresRow) throws -> Slot {
        Slot(
            id: try row.decode("id", as: Int64.self),
            recruiterID: try row.decode("recruiter_id", as: Int64.self),
            cityID: try row.decode("city_id", as: Int64.self),
            startsAt: try row.decode("starts_at", as: Date.self),
            durationMinutes: try row.decode("duration_minutes", as: Int.self),
            status: try row.decode("status", as: SlotStatus.self),
            candidateTelegramID: try row.decode("candidate_telegram_id", as: Int64?.self),
            reservedUntil: try row.decode("reserved_until", as: Date?.self),
            createdAt: try row.decode("created_at", as: Date?.self),
            updatedAt: try row.decode("updated_at", as: Date?.self)
        )
    }

    /// `SELECT` of a slot with its recruiter (columns `r_…`) and city (`c_…`); append a `WHERE` on `s`.
    static let selectWithRelations = """
        SELECT \(selectList(alias: "s", prefix: "")), \(RecruiterTable.selectList(alias: "r", prefix: "r_")),
               \(CityTable.selectList(alias: "c", prefix: "c_"))
        FROM slots s
        JOIN recruiters r ON r.id = s.recruiter_id
        JOIN cities c ON c.id = s.city_id
        """

    /// Decodes a row of ``selectWithRelations``.
    static func decodeWithRelations(_ row: PostgresRow) throws -> SlotWithRelations {
        SlotWithRelations(
            slot: try decode(row),
            recruiter: try RecruiterTable.decode(row, prefix: "r_"),
            city: try CityTable.decode(row, prefix: "c_")
        )
    }
}

/// Slots: the generic CRUD plus the queries below; the background tasks' batch queries are in
/// `SlotRepository+Tasks.swift`.
public typealias SlotRepository = Repository<SlotTable>

extension Repository where Mapping == SlotTable {
    /// The slot with its recruiter and city, in one round trip (one JOIN); `.notFound` when no slot has this id.
    public func getWithRelations(_ id: Int64) async -> Result<SlotWithRelations, RepositoryError> {
        await run("get_with_relations") { connection in
            let rows = try await connection.query(
                SlotTable.selectWithRelations + " WHERE s.id = $1",
                [id],
                prepared: true,
                operation: "get_with_relations"
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: SlotTable.entityName, id: id.description)
            }
            return try SlotTable.decodeWithRelations(row)
        }
    }

    /// The slot, locked (`SELECT … FOR UPDATE`) until the Unit of Work ends: concurrent lockers wait, then see
    /// the committed state. `.notFound` when no slot has this id.
    ///
    /// Only meaningful inside a Unit of Work; in autocommit mode the lock ends with the statement.
    public func getForUpdate(_ id: Int64) async -> Result<Slot, RepositoryError> {
        await run("get_for_update") { connection in
            let rows = try await connection.query(
                "SELECT \(SlotTable.selectList) FROM slots WHERE id = $1 FOR UPDATE",
                [id],
                prepared: true,
                operation: "get_for_update"
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: SlotTable.entityName, id: id.description)
            }
            return try SlotTable.decode(row)
        }
    }

    /// Inserts all slots with ONE statement (`INSERT … SELECT FROM unnest(arrays)`), whatever their number, and
    /// returns them as stored, in input order. Ids in the input are ignored, like ``Repository/add(_:)``.
    ///
    /// All or nothing: one bad slot (a CHECK, a foreign key, a duplicate start) fails the statement and inserts
    /// none. Nullable columns travel as `text[]` with `''` for NULL, since array binds can't carry NULLs;
    /// instants travel as microseconds since the epoch, PostgreSQL's own resolution.
    public func addMany(_ slots: [Slot]) async -> Result<[Slot], RepositoryError> {
        await run("add_many") { connection in
            guard !slots.isEmpty else { return [] }
            let rows = try await connection.query(
                """
                INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status,
                                   candidate_telegram_id, reserved_until)
                SELECT u.recruiter_id, u.city_id,
                       'epoch'::timestamptz + u.starts_at_us * interval '1 microsecond',
                       u.duration_minutes, u.status,
                       nullif(u.candidate_telegram_id, '')::int8,
                       'epoch'::timestamptz + nullif(u.reserved_until_us, '')::int8 * interval '1 microsecond'
                FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[])
                    WITH ORDINALITY AS u(recruiter_id, city_id, starts_at_us, duration_minutes, status,
                                         candidate_telegram_id, reserved_until_us, n)
                ORDER BY u.n
                RETURNING \(SlotTable.selectList)
                """,
                [
                    slots.map(\.recruiterID),
                    slots.map(\.cityID),
                    slots.map { Self.microseconds($0.startsAt) },
                    slots.map(\.durationMinutes),
                    slots.map(\.status.rawValue),
                    slots.map { $0.candidateTelegramID.map(String.init) ?? "" },
                    slots.map { $0.reservedUntil.map { String(Self.microseconds($0)) } ?? "" },
                ],
                prepared: true,
                operation: "add_many"
            )
            // Identity values are drawn in the ORDER BY order, so ordering by id restores the input order.
            return try rows.map(SlotTable.decode).sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        }
    }

    /// Microseconds since 1970 (rounded), the resolution of `timestamptz`.
    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }
}

extension UnitOfWork {
    /// Slots in this Unit of Work's transaction.
    public var slots: SlotRepository { repository(SlotTable.self) }
}
