import Foundation
import JobQueue
import PostgresClient

/// The reminders page's data, in one place so it can follow the reminder schema: today reminders are `jobs` of
/// kind `reminders.send` (payload `{"slot_id", "kind"}`) and the `sent_reminders` ledger. "Not sent" counts the
/// newest 1,000 dead and 1,000 cancelled reminder jobs of the last hour (read along `jobs_finished_idx`).
struct ReminderQueries: Sendable {
    let operations: JobOperations

    struct Due: Sendable {
        var jobID: Int64
        var slotID: String
        var kind: String
        var runAt: Date
        var state: String
    }

    struct Sent: Sendable {
        var slotID: Int64
        var kind: String
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

    func page() async throws -> Page {
        try await operations.withTimeout { connection in
            let due = try await connection.query(
                """
                SELECT id, coalesce(payload->>'slot_id', '?') AS slot_id, coalesce(payload->>'kind', '?') AS kind,
                    run_at, state
                FROM (
                    (SELECT * FROM jobs WHERE state = 'scheduled' AND run_at < now() + interval '1 hour'
                        AND kind = 'reminders.send' ORDER BY run_at LIMIT 200)
                    UNION ALL
                    (SELECT * FROM jobs WHERE state = 'available' AND kind = 'reminders.send' LIMIT 200)
                    UNION ALL
                    (SELECT * FROM jobs WHERE state = 'running' AND kind = 'reminders.send' LIMIT 200)
                ) AS jobs
                ORDER BY run_at LIMIT 200
                """, operation: "console.reminders.due"
            ).map { row in
                Due(
                    jobID: try row.decode("id"), slotID: try row.decode("slot_id"), kind: try row.decode("kind"),
                    runAt: try row.decode("run_at"), state: try row.decode("state"))
            }
            let sent = try await connection.query(
                "SELECT slot_id, kind, sent_at FROM sent_reminders ORDER BY sent_at DESC LIMIT 50",
                operation: "console.reminders.sent"
            ).map { row in
                Sent(slotID: try row.decode("slot_id"), kind: try row.decode("kind"), sentAt: try row.decode("sent_at"))
            }
            let skipped = try await connection.query(
                """
                SELECT coalesce(left(last_error, 120), state) AS reason, count(*) AS n FROM (
                    (SELECT state, last_error FROM jobs
                        WHERE state = 'dead' AND kind = 'reminders.send' AND finished_at > now() - interval '1 hour'
                        ORDER BY finished_at DESC LIMIT 1000)
                    UNION ALL
                    (SELECT state, last_error FROM jobs
                        WHERE state = 'cancelled' AND kind = 'reminders.send'
                            AND finished_at > now() - interval '1 hour'
                        ORDER BY finished_at DESC LIMIT 1000)
                ) AS recent
                GROUP BY 1 ORDER BY 2 DESC LIMIT 20
                """, operation: "console.reminders.skipped"
            ).map { row in Skipped(reason: try row.decode("reason"), count: try row.decode("n")) }
            return Page(due: due, sent: sent, skipped: skipped)
        }
    }
}
