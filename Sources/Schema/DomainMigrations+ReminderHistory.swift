import Persistence

extension DomainMigrations {
    /// Finished reminders by their last change (version 6), for the reads that look at recent history without
    /// scanning all of it: the console's newest sent reminders and the last hour's skipped and failed ones by
    /// reason. Partial: open reminders (planned, sending) stay out, and each reminder enters it once, when it ends.
    static let reminderHistory = Migration(
        version: 6,
        name: "reminders_finished_idx",
        sql: """
            CREATE INDEX reminders_finished_idx ON reminders (updated_at) WHERE state IN ('sent', 'skipped', 'failed');
            """
    )
}
