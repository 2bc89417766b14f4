package import Persistence

/// Every repository and the operations it can record, in one place: the names a test checks every recorded
/// operation against, and the operations the `http` benchmark records into. The worker does not declare them up
/// front: an operation's series appear when it first runs (most of these, the generic CRUD ones, serve the demo
/// seed and the tests and never run in a worker).
///
/// Keep it in step with the repositories: a test runs every operation and checks the recorded names against it.
public enum RepositoryCatalog {
    /// Repository name (``Persistence/TableMapping/repositoryName``) → operation names, the generic CRUD ones
    /// (``Persistence/Repository/crudOperations``) first.
    public static let operations: [String: [String]] = [
        RecruiterTable.repositoryName: RecruiterRepository.crudOperations + [
            "get_active", "get_active_in_city", "assign_city",
        ],
        CityTable.repositoryName: CityRepository.crudOperations + ["get_active", "get_for_recruiter"],
        SlotTable.repositoryName: SlotRepository.crudOperations + [
            "get_with_relations", "get_for_update", "add_many", "release_lapsed_reservations", "expire_past",
            "count_by_status",
        ],
        MessageTemplateTable.repositoryName: MessageTemplateRepository.crudOperations + ["find"],
        UserTable.repositoryName: UserRepository.crudOperations + ["get_by_telegram_id"],
        ReminderTable.repositoryName: ReminderRepository.crudOperations + [
            "plan", "open", "load_for_send", "mark_sending", "mark_sent", "finish", "mark_retrying", "mark_unreachable",
            "is_unreachable",
        ],
        SlotEventTable.repositoryName: SlotEventRepository.crudOperations + ["get_for_slot"],
    ]

    /// Declares every repository's operations to `observer` (in repository-name order), for tests that read every
    /// series from zero.
    package static func prepare(_ observer: any RepositoryObserver) {
        for (repository, names) in operations.sorted(by: { $0.key < $1.key }) {
            observer.prepare(repository: repository, operations: names)
        }
    }
}
