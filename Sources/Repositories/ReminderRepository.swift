public import Domain
public import Foundation
public import Persistence
public import PostgresClient

/// How ``Reminder`` maps to `reminders`.
public enum ReminderTable: TableMapping {
    public typealias Model = Reminder
    public typealias ID = Int64

    public static let repositoryName = "reminders"
    public static let entityName = "Reminder"
    public static let table = "reminders"
    public static let writableColumns = [
        "slot_id", "offset_seconds", "starts_at", "due_at", "state", "reason", "chat_id", "message_id", "attempts",
        "sent_at",
    ]

    public static func id(of model: Reminder) -> Int64? { model.id }

    public static func binds(_ model: Reminder) -> [any PostgresEncodable] {
        [
            model.slotID, model.offset.seconds, model.startsAt, model.dueAt, model.state.rawValue, model.reason,
            model.chatID, model.messageID, model.attempts, model.sentAt,
        ]
    }

    public static func decode(_ row: PostgresRow) throws -> Reminder {
        try decode(row, prefix: "")
    }

    static func decode(_ row: PostgresRow, prefix: String) throws -> Reminder {
        let offset = try row.decode(prefix + "offset_seconds", as: Int.self)
        guard offset >= 1 else {
            throw PostgresError(.decoding, message: "reminder offset \(offset) is not positive", operation: "decode")
        }
        return Reminder(
            id: try row.decode(prefix + "id", as: Int64.self),
            slotID: try row.decode(prefix + "slot_id", as: Int64.self),
            offset: ReminderOffset(seconds: offset),
            startsAt: try row.decode(prefix + "starts_at", as: Date.self),
            dueAt: try row.decode(prefix + "due_at", as: Date.self),
            state: try row.decode(prefix + "state", as: Reminder.State.self),
            reason: try row.decode(prefix + "reason", as: String?.self),
            chatID: try row.decode(prefix + "chat_id", as: Int64?.self),
            messageID: try row.decode(prefix + "message_id", as: Int64?.self),
            attempts: try row.decode(prefix + "attempts", as: Int.self),
            sentAt: try row.decode(prefix + "sent_at", as: Date?.self)
        )
    }
}

/// A reminder the planner inserted.
public struct PlannedReminder: Sendable, Equatable {
    public var id: Int64
    public var offset: ReminderOffset
    public var dueAt: Date
    /// `.planned`, or `.skipped` (`late`) when it was already more than the grace past due.
    public var state: Reminder.State
}

/// Everything one send attempt needs, read in one statement with the reminder row locked.
public struct ReminderSendContext: Sendable, Equatable {
    public var reminder: Reminder
    /// The slot now; nil when it was deleted.
    public var slot: ReminderDecision.SlotState?
    public var cityID: Int64?
    public var candidateUnreachable: Bool
    /// The candidate's locale (`users.locale`), for the template choice.
    public var locale: String?
    /// The placeholder values (nil when the slot is gone).
    public var values: MessageTemplateRenderer.Values?
}

/// Reminders: the generic CRUD plus the planner's and the sender's statements. Every write is one short
/// statement; none of them is meant to be held open across a network call.
public typealias ReminderRepository = Repository<ReminderTable>

extension Repository where Mapping == ReminderTable {
    /// Inserts the reminders of every BOOKED or CONFIRMED slot that has not started and whose reminder for one
    /// of `offsets` falls due before `now + horizon`, unless a reminder with the same identity (slot, offset,
    /// start) exists. Reminders more than `grace` past due are inserted already `skipped` (`late`), so an outage
    /// is counted; reminders that were already more than the grace past due when the slot last changed (a
    /// booking made after its reminder's time) are not created at all. Returns the inserted rows.
    ///
    /// One statement over `slots_status_starts_at_idx`; concurrent planners are safe (the unique identity and
    /// `ON CONFLICT DO NOTHING`).
    public func plan(offsets: [ReminderOffset], now: Date, horizon: Duration, grace: Duration) async
        -> Result<[PlannedReminder], RepositoryError>
    {
        await run("plan") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at, state, reason)
                SELECT c.slot_id, c.off, c.starts_at, c.due_at,
                       CASE WHEN c.due_at + $4 * interval '1 millisecond' < $2 THEN 'skipped' ELSE 'planned' END,
                       CASE WHEN c.due_at + $4 * interval '1 millisecond' < $2 THEN 'late' END
                FROM (
                    SELECT s.id AS slot_id, o.off, s.starts_at, s.starts_at - o.off * interval '1 second' AS due_at,
                           s.updated_at
                    FROM unnest($1::int4[]) AS o(off)
                    JOIN slots s ON s.status IN ('BOOKED', 'CONFIRMED') AND s.starts_at > $2
                        AND s.starts_at < $2 + $3 * interval '1 millisecond' + o.off * interval '1 second'
                ) c
                WHERE c.due_at + $4 * interval '1 millisecond' >= least(c.updated_at, $2)
                ORDER BY c.due_at, c.slot_id
                ON CONFLICT (slot_id, offset_seconds, starts_at) DO NOTHING
                RETURNING id, offset_seconds, due_at, state
                """,
                [offsets.map(\.seconds), now, horizon.milliseconds, grace.milliseconds],
                prepared: true,
                operation: "plan"
            )
            return try rows.map { row in
                PlannedReminder(
                    id: try row.decode("id", as: Int64.self),
                    offset: ReminderOffset(seconds: max(1, try row.decode("offset_seconds", as: Int.self))),
                    dueAt: try row.decode("due_at", as: Date.self),
                    state: try row.decode("state", as: Reminder.State.self)
                )
            }
        }
    }

    /// Reminders still to send (`planned` or `sending`) that fall due before `now + horizon` and are at most `grace`
    /// past due, by due time: the planner's repair pass enqueues their jobs again (a job lost to an operator's
    /// cancel or to handler timeouts would otherwise leave them unsent). One range scan of `reminders_open_idx`.
    public func open(now: Date, horizon: Duration, grace: Duration) async -> Result<[PlannedReminder], RepositoryError>
    {
        await run("open") { connection in
            let rows = try await connection.query(
                """
                SELECT id, offset_seconds, due_at, state FROM reminders
                WHERE state IN ('planned', 'sending')
                  AND due_at < $1 + $2 * interval '1 millisecond' AND due_at >= $1 - $3 * interval '1 millisecond'
                ORDER BY due_at, id
                """,
                [now, horizon.milliseconds, grace.milliseconds],
                prepared: true,
                operation: "open"
            )
            return try rows.map { row in
                PlannedReminder(
                    id: try row.decode("id", as: Int64.self),
                    offset: ReminderOffset(seconds: max(1, try row.decode("offset_seconds", as: Int.self))),
                    dueAt: try row.decode("due_at", as: Date.self),
                    state: .planned
                )
            }
        }
    }

    /// The reminder, locked until the Unit of Work ends, with its slot, city, recruiter, candidate and whether the
    /// candidate is unreachable; `.notFound` when no reminder has this id.
    public func loadForSend(_ id: Int64) async -> Result<ReminderSendContext, RepositoryError> {
        await run("load_for_send") { connection in
            let rows = try await connection.query(
                """
                SELECT \(ReminderTable.selectList(alias: "r", prefix: "r_")),
                       s.status, s.starts_at AS slot_starts_at, s.candidate_telegram_id, s.duration_minutes,
                       coalesce(s.address, c.address) AS address, s.link, c.id AS city_id, c.name AS city_name,
                       c.time_zone, rec.name AS recruiter_name, u.name AS candidate_name, u.locale,
                       (uc.telegram_id IS NOT NULL) AS unreachable
                FROM reminders r
                LEFT JOIN slots s ON s.id = r.slot_id
                LEFT JOIN cities c ON c.id = s.city_id
                LEFT JOIN recruiters rec ON rec.id = s.recruiter_id
                LEFT JOIN users u ON u.telegram_id = s.candidate_telegram_id
                LEFT JOIN unreachable_candidates uc ON uc.telegram_id = s.candidate_telegram_id
                WHERE r.id = $1
                FOR UPDATE OF r
                """,
                [id],
                prepared: true,
                operation: "load_for_send"
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: ReminderTable.entityName, id: id.description)
            }
            let reminder = try ReminderTable.decode(row, prefix: "r_")
            guard try row.decode("status", as: String?.self) != nil else {
                return ReminderSendContext(
                    reminder: reminder, slot: nil, cityID: nil, candidateUnreachable: false, locale: nil, values: nil)
            }
            let status = try row.decode("status", as: SlotStatus.self)
            let startsAt = try row.decode("slot_starts_at", as: Date.self)
            return ReminderSendContext(
                reminder: reminder,
                slot: ReminderDecision.SlotState(
                    status: status,
                    startsAt: startsAt,
                    candidateTelegramID: try row.decode("candidate_telegram_id", as: Int64?.self)
                ),
                cityID: try row.decode("city_id", as: Int64.self),
                candidateUnreachable: try row.decode("unreachable", as: Bool.self),
                locale: try row.decode("locale", as: String?.self),
                values: MessageTemplateRenderer.Values(
                    candidateName: try row.decode("candidate_name", as: String?.self),
                    city: try row.decode("city_name", as: String.self),
                    timeZone: try row.decode("time_zone", as: String.self),
                    recruiter: try row.decode("recruiter_name", as: String.self),
                    address: try row.decode("address", as: String?.self),
                    link: try row.decode("link", as: String?.self),
                    durationMinutes: try row.decode("duration_minutes", as: Int.self),
                    startsAt: startsAt
                )
            )
        }
    }

    /// `sending`, one more attempt, to this chat: recorded (and committed) before the Bot API call.
    public func markSending(_ id: Int64, chatID: Int64) async -> Result<Void, RepositoryError> {
        await change(
            "mark_sending",
            "UPDATE reminders SET state = 'sending', chat_id = $2, attempts = attempts + 1, updated_at = now() "
                + "WHERE id = $1 AND state IN ('planned', 'sending')",
            [id, chatID]
        )
    }

    /// `sent` with Telegram's message id. Returns false when the row was not in `planned`/`sending`.
    public func markSent(_ id: Int64, messageID: Int64?, at sentAt: Date) async -> Result<Void, RepositoryError> {
        await change(
            "mark_sent",
            "UPDATE reminders SET state = 'sent', message_id = $2, sent_at = $3, last_error = NULL, "
                + "updated_at = now() WHERE id = $1 AND state IN ('planned', 'sending')",
            [id, messageID, sentAt]
        )
    }

    /// Ends it `skipped` (reason) or `failed` (class), keeping `message` as `last_error`.
    public func finish(_ id: Int64, state: Reminder.State, reason: String, message: String?) async
        -> Result<Void, RepositoryError>
    {
        await change(
            "finish",
            "UPDATE reminders SET state = $2, reason = $3, last_error = $4, updated_at = now() "
                + "WHERE id = $1 AND state IN ('planned', 'sending')",
            [id, state.rawValue, reason, message.map { String($0.prefix(1000)) }]
        )
    }

    /// Back to `planned` after an attempt that certainly or probably did not deliver, keeping the error.
    public func markRetrying(_ id: Int64, message: String) async -> Result<Void, RepositoryError> {
        await change(
            "mark_retrying",
            "UPDATE reminders SET state = 'planned', last_error = $2, updated_at = now() "
                + "WHERE id = $1 AND state = 'sending'",
            [id, String(message.prefix(1000))]
        )
    }

    /// Records that the Bot API refused this candidate for good; later reminders to them are skipped
    /// (`unreachable`). A candidate already marked keeps the first reason.
    public func markUnreachable(telegramID: Int64, reason: String) async -> Result<Void, RepositoryError> {
        await change(
            "mark_unreachable",
            "INSERT INTO unreachable_candidates (telegram_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [telegramID, String(reason.prefix(1000))]
        )
    }

    /// True when the candidate is marked unreachable.
    public func isUnreachable(telegramID: Int64) async -> Result<Bool, RepositoryError> {
        await run("is_unreachable") { connection in
            !(try await connection.query(
                "SELECT 1 FROM unreachable_candidates WHERE telegram_id = $1", [telegramID], prepared: true,
                operation: "is_unreachable"
            ).isEmpty)
        }
    }

    /// Deletes up to `limit` finished reminders (sent, skipped, failed) that ended more than `retention` before
    /// `now` and whose planned start passed (the planner only plans slots that have not started, so a deleted row
    /// can never be planned and sent again). One statement along `reminders_finished_idx`; returns the rows deleted.
    public func pruneFinished(olderThan retention: Duration, now: Date, limit: Int) async
        -> Result<Int, RepositoryError>
    {
        await run("prune_finished") { connection in
            let rows = try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM reminders WHERE id IN (
                        SELECT id FROM reminders
                        WHERE state IN ('sent', 'skipped', 'failed')
                            AND updated_at < $1::timestamptz - $2 * interval '1 millisecond' AND starts_at < $1
                        LIMIT $3
                        FOR UPDATE SKIP LOCKED)
                    RETURNING 1)
                SELECT count(*)::int8 AS n FROM gone
                """,
                [now, retention.milliseconds, limit],
                prepared: true,
                operation: "prune_finished"
            )
            return try rows.first?.decode("n", as: Int.self) ?? 0
        }
    }

    private func change(_ operation: String, _ sql: String, _ binds: [any PostgresEncodable]) async
        -> Result<Void, RepositoryError>
    {
        await run(operation) { connection in
            _ = try await connection.query(sql, binds, prepared: true, operation: operation)
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), for binds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension UnitOfWork {
    /// Reminders in this Unit of Work's transaction.
    public var reminders: ReminderRepository { repository(ReminderTable.self) }
}
