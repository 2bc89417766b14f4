public import Persistence

/// The versioned SQL migrations of the whole database, in order. `slot-worker migrate` applies them.
///
/// Versions 1–99 are the domain (recruiters, cities, slots, templates, users, reminders); 100+ the job queue.
/// A released migration is never edited: add a new version instead.
public enum Schema {
    public static let migrations: [Migration] = [
        DomainMigrations.all,
        JobQueueMigrations.all,
    ].flatMap { $0 }
}
