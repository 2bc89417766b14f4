public import Domain
public import Persistence

/// The recruiter operations the services use (see ``SlotRepositoryProtocol`` for why it is a protocol). Each method
/// keeps ``RecruiterRepository``'s contract.
public protocol RecruiterRepositoryProtocol: Sendable {
    /// The recruiter with this id, or `.notFound(entity: "Recruiter")`.
    func get(_ id: Int64) async -> Result<Recruiter, RepositoryError>
    /// Inserts the recruiter and returns it as stored, with its id and creation time;
    /// `.conflict(constraint: "recruiters_telegram_chat_id_key")` when another recruiter has the chat.
    func add(_ recruiter: Recruiter) async -> Result<Recruiter, RepositoryError>
    /// Active recruiters ordered by name, then id.
    func getActive() async -> Result<[Recruiter], RepositoryError>
}

extension Repository: RecruiterRepositoryProtocol where Mapping == RecruiterTable {}
