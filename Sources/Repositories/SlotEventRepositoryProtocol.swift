public import Domain
public import Persistence

/// The slot event log operations the services use (see ``SlotRepositoryProtocol`` for why it is a protocol). Each
/// method keeps ``SlotEventRepository``'s contract.
public protocol SlotEventRepositoryProtocol: Sendable {
    /// Appends an event and returns it as stored, with its id and creation time.
    func add(_ event: SlotEvent) async -> Result<SlotEvent, RepositoryError>
    /// The slot's events, oldest first; empty when none.
    func getForSlot(_ slotID: Int64) async -> Result<[SlotEvent], RepositoryError>
}

extension Repository: SlotEventRepositoryProtocol where Mapping == SlotEventTable {}
