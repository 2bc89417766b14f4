public import Domain
public import Persistence

/// The slot operations the services use, so a Unit of Work can hand out PostgreSQL's ``SlotRepository`` in
/// production and an in-memory repository in unit tests. Each method keeps ``SlotRepository``'s contract.
public protocol SlotRepositoryProtocol: Sendable {
    /// The slot with this id, or `.notFound(entity: "Slot")`.
    func get(_ id: Int64) async -> Result<Slot, RepositoryError>
    /// The slot, locked until the Unit of Work ends (concurrent lockers wait, then see the committed state), or
    /// `.notFound(entity: "Slot")`.
    func getForUpdate(_ id: Int64) async -> Result<Slot, RepositoryError>
    /// Writes every field of an existing slot and returns it as stored; `.notFound` when no slot has its id,
    /// `.validation(field: "slots_status_transition")` for a transition ``SlotStatus/canTransition(to:)`` forbids.
    func update(_ slot: Slot) async -> Result<Slot, RepositoryError>
    /// Inserts all slots, all or nothing, and returns them as stored (with ids), in input order;
    /// `.conflict(constraint: "slots_recruiter_starts_at_key")` when a recruiter has two slots with one start.
    func addMany(_ slots: [Slot]) async -> Result<[Slot], RepositoryError>
}

extension Repository: SlotRepositoryProtocol where Mapping == SlotTable {}
