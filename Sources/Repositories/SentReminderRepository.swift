public import Domain
public import Foundation
public import Persistence
public import PostgresClient

/// How ``SentReminder`` maps to `sent_reminders`.
public enum SentReminderTable: TableMapping {
    public typealias Model = SentReminder
    public typealias ID = Int64

    public static let repositoryName = "sent_reminders"
    public static let entityName = "SentReminder"
    public static let table = "sent_reminders"
    public static let writableColumns = ["slot_id", "kind", "sent_at"]

    public static func id(of model: SentReminder) -> Int64? { model.id }

    public static func binds(_ model: SentReminder) -> [any PostgresEncodable] {
        [model.slotID, model.kind, model.sentAt]
    }

    public static func decode(_ row: PostgresRow) throws -> SentReminder {
        SentReminder(
            id: try row.decode("id", as: Int64.self),
            slotID: try row.decode("slot_id", as: Int64.self),
            kind: try row.decode("kind", as: String.self),
            sentAt: try row.decode("sent_at", as: Date.self)
        )
    }
}

/// Sent reminders: the generic CRUD plus ``Repository/markSent(slotID:kind:at:)``.
public typealias SentReminderRepository = Repository<SentReminderTable>

extension Repository where Mapping == SentReminderTable {
    /// Records that the `kind` reminder of the slot was sent; returns false, changing nothing, when it already
    /// was (`INSERT … ON CONFLICT DO NOTHING` on the unique (slot, kind)). This is the at-most-once gate: claim
    /// with `markSent` in the same transaction as enqueuing the message, and send only on `true`.
    ///
    /// Fails with `.conflict(constraint: "sent_reminders_slot_id_fkey")` when the slot doesn't exist and with
    /// `.validation(field: "sent_reminders_kind_check")` for a malformed kind.
    public func markSent(slotID: Int64, kind: String, at sentAt: Date = Date()) async -> Result<Bool, RepositoryError> {
        await run("mark_sent") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO sent_reminders (slot_id, kind, sent_at) VALUES ($1, $2, $3)
                ON CONFLICT (slot_id, kind) DO NOTHING RETURNING id
                """,
                [slotID, kind, sentAt],
                prepared: true,
                operation: "mark_sent"
            )
            return rows.count == 1
        }
    }
}

extension UnitOfWork {
    /// Sent reminders in this Unit of Work's transaction.
    public var reminders: SentReminderRepository { repository(SentReminderTable.self) }
}
