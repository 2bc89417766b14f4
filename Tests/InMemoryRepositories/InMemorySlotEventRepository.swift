public import Domain
import Foundation
public import Persistence
public import Repositories

/// The slot event log of an ``InMemoryUnitOfWork``, keeping ``Repositories/SlotEventRepositoryProtocol``'s contract.
public struct InMemorySlotEventRepository: SlotEventRepositoryProtocol {
    let unitOfWork: InMemoryUnitOfWork

    public func add(_ event: SlotEvent) async -> Result<SlotEvent, RepositoryError> {
        unitOfWork.run("\(SlotEventTable.repositoryName).add") { tables throws(RepositoryError) in
            var row = event
            row.id = tables.newID()
            row.createdAt = Date()
            tables.slotEvents[row.id!] = row
            return row
        }
    }

    public func getForSlot(_ slotID: Int64) async -> Result<[SlotEvent], RepositoryError> {
        unitOfWork.run("\(SlotEventTable.repositoryName).get_for_slot") { tables throws(RepositoryError) in
            tables.slotEvents.values.filter { $0.slotID == slotID }.sorted { $0.id! < $1.id! }
        }
    }
}
