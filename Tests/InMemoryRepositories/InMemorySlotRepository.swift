public import Domain
import Foundation
public import Persistence
public import Repositories

/// Slots of an ``InMemoryUnitOfWork``, keeping ``Repositories/SlotRepositoryProtocol``'s contract: the status
/// trigger's rule (``Domain/SlotStatus/canTransition(to:)``) and the unique (recruiter, start).
public struct InMemorySlotRepository: SlotRepositoryProtocol {
    let unitOfWork: InMemoryUnitOfWork

    public func get(_ id: Int64) async -> Result<Slot, RepositoryError> {
        unitOfWork.run(Self.operation("get")) { tables throws(RepositoryError) in try Self.row(id, in: tables) }
    }

    /// The slot; its "lock" is the store's optimistic commit (a concurrent writer's commit fails).
    public func getForUpdate(_ id: Int64) async -> Result<Slot, RepositoryError> {
        unitOfWork.run(Self.operation("get_for_update")) { tables throws(RepositoryError) in
            try Self.row(id, in: tables)
        }
    }

    public func update(_ slot: Slot) async -> Result<Slot, RepositoryError> {
        unitOfWork.run(Self.operation("update")) { tables throws(RepositoryError) in
            guard let id = slot.id else {
                throw .validation(field: SlotTable.idColumn, message: "cannot update an entity without id")
            }
            let stored = try Self.row(id, in: tables)
            guard stored.status == slot.status || stored.status.canTransition(to: slot.status) else {
                throw .validation(
                    field: "slots_status_transition",
                    message: "slot \(id) cannot go from \(stored.status.rawValue) to \(slot.status.rawValue)"
                )
            }
            try Self.checkUnique(slot, in: tables)
            var updated = slot
            updated.createdAt = stored.createdAt
            updated.updatedAt = Date()
            tables.slots[id] = updated
            return updated
        }
    }

    public func addMany(_ slots: [Slot]) async -> Result<[Slot], RepositoryError> {
        unitOfWork.run(Self.operation("add_many")) { tables throws(RepositoryError) in
            var added: [Slot] = []
            for slot in slots {
                var row = slot
                row.id = tables.newID()
                row.createdAt = Date()
                row.updatedAt = row.createdAt
                try Self.checkUnique(row, in: tables)
                tables.slots[row.id!] = row
                added.append(row)
            }
            return added
        }
    }

    private static func operation(_ name: String) -> String { "\(SlotTable.repositoryName).\(name)" }

    private static func row(_ id: Int64, in tables: InMemoryTables) throws(RepositoryError) -> Slot {
        guard let slot = tables.slots[id] else { throw .notFound(entity: SlotTable.entityName, id: "\(id)") }
        return slot
    }

    /// `slots_recruiter_starts_at_key`: a recruiter has one slot per start.
    private static func checkUnique(_ slot: Slot, in tables: InMemoryTables) throws(RepositoryError) {
        let clash = tables.slots.values.contains {
            $0.id != slot.id && $0.recruiterID == slot.recruiterID && $0.startsAt == slot.startsAt
        }
        if clash {
            throw .conflict(
                constraint: "slots_recruiter_starts_at_key",
                message: "recruiter \(slot.recruiterID) already has a slot starting at \(slot.startsAt)"
            )
        }
    }
}
