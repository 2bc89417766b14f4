import Persistence

extension DomainMigrations {
    /// Reminders planned again for a start they were skipped at (version 7). The identity (slot, offset, start)
    /// becomes a partial unique index that leaves out rows skipped `moved` or `not_booked`: those ended because the
    /// slot was elsewhere or not booked when they fell due, so a slot moved back to that start (or booked again at
    /// it) gets a new row and a new send job. Every other row still blocks its identity: a reminder sent (or
    /// sending) for a start is never planned for it again, and `late`, `unreachable` and failed rows are not
    /// retried by the planner.
    static let reminderReplanning = Migration(
        version: 7,
        name: "reminders_replan_after_skip",
        sql: """
            ALTER TABLE reminders DROP CONSTRAINT reminders_identity_key;
            CREATE UNIQUE INDEX reminders_identity_key ON reminders (slot_id, offset_seconds, starts_at)
                WHERE NOT (state = 'skipped' AND reason IN ('moved', 'not_booked'));
            """
    )
}
