import Foundation
import JobQueue
import PostgresClient

/// The reminders page's data, read from the `reminders` table the planner keeps (one row per slot, offset and
/// planned start; see `DomainMigrations.reminderDispatch`): due in the next hour (along `reminders_open_idx`), the
/// newest sent of the last day, and the reminders not sent in the last hour by reason (`skipped`: late, moved,
/// not_booked, unreachable, template_error; `failed`: the error class), both along `reminders_finished_idx` (a
/// reminder's last change, `updated_at`, is when it ended), so neither scans the table's history.
struct ReminderQueries: Sendable {
    let operations: JobOperations

    struct Due: Sendable {
        var reminderID: Int64
        var slotID: Int64
        var offset: String
        var dueAt: Date
        var state: String
    }

    struct Sent: Sendable {
        var slotID: Int64
        var offset: String
        var sentAt: Date
    }

    struct Skipped: Sendable {
        var reason: String
        var count: Int
    }

    struct Page: Sendable {
        var due: [Due]
        var sent: [Sent]
        var skipped: [Skipped]
    }

    /// An offset in seconds as the configuration writes it (`24h`, `2h`, `90m`, `45s`).
    static func offset(seconds: Int) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    func page() async throws -> Page {
        try await operations.withTimeout { connection in
            let due = try await connection.query(
                """
                SELECT id, slot_id, offset_seconds, due_at, state FROM reminders
                WHERE state IN ('planned', 'sending') AND due_at < now() + interval '1 hour'
                ORDER BY due_at LIMIT 200
                """, operation: "console.reminders.due"
            ).map { row in
                Due(
                    reminderID: try row.decode("id"), slotID: try row.decode("slot_id"),
                    offset: Self.offset(seconds: try row.decode("offset_seconds")), dueAt: try row.decode("due_at"),
                    state: try row.decode("state"))
            }
            let sent = try await connection.query(
                """
                SELECT slot_id, offset_seconds, sent_at FROM reminders
                WHERE state = 'sent' AND updated_at > now() - interval '1 day'
                ORDER BY updated_at DESC LIMIT 50
                """,
                operation: "console.reminders.sent"
            ).map { row in
                Sent(
                    slotID: try row.decode("slot_id"), offset: Self.offset(seconds: try row.decode("offset_seconds")),
                    sentAt: try row.decode("sent_at"))
            }
            let skipped = try await connection.query(
                """
                SELECT state || ': ' || reason AS reason, count(*) AS n FROM reminders
                WHERE state IN ('skipped', 'failed') AND updated_at > now() - interval '1 hour'
                GROUP BY 1 ORDER BY 2 DESC LIMIT 20
                """, operation: "console.reminders.skipped"
            ).map { row in Skipped(reason: try row.decode("reason"), count: try row.decode("n")) }
            return Page(due: due, sent: sent, skipped: skipped)
        }
    }
}
