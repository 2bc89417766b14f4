public import Domain
public import Persistence
public import Repositories

/// Recruiter use cases (the guide's examples 1 and 2), one Unit of Work each. Generic over where its Units of Work
/// come from, like ``SlotBookingService``.
public struct RecruiterService<Store: UnitOfWorkProvider>: Sendable where Store.Work: DomainUnitOfWork {
    public let database: Store

    public init(database: Store) {
        self.database = database
    }

    /// Active recruiters ordered by name.
    ///
    /// The read-only transaction is committed, so transaction metrics count a rollback only for an aborted
    /// use case. Callers wanting the guide's "empty list on failure" write `.value(or: [])`.
    public func listActive() async -> Result<[Recruiter], RepositoryError> {
        await database.withUnitOfWorkResult { uow throws(RepositoryError) in
            let recruiters = try await uow.recruiters.getActive().get()
            try await uow.commitResult().get()
            return recruiters
        }
    }

    /// Creates an active recruiter and returns it as stored (with its id).
    ///
    /// - Returns: `.validation(field: "name")` for a blank name (checked before touching the database);
    ///   `.conflict(constraint: "recruiters_telegram_chat_id_key")` when another recruiter has the chat;
    ///   `.database` when the database fails. Nothing is saved on failure.
    public func createRecruiter(name: String, telegramChatID: Int64?) async -> Result<Recruiter, RepositoryError> {
        let trimmed = name.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            return .failure(.validation(field: "name", message: "a recruiter's name must not be blank"))
        }
        return await database.withUnitOfWorkResult { uow throws(RepositoryError) in
            let recruiter = try await uow.recruiters.add(Recruiter(name: trimmed, telegramChatID: telegramChatID))
                .get()
            try await uow.commitResult().get()
            return recruiter
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
