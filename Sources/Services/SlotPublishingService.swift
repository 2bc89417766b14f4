public import Domain
public import Foundation
public import Persistence
public import Repositories

/// Publishing slots in bulk (the guide's "batch operations"): all slots in ONE statement in ONE transaction.
/// Generic over where its Units of Work come from, like ``SlotBookingService``.
public struct SlotPublishingService<Store: UnitOfWorkProvider>: Sendable where Store.Work: DomainUnitOfWork {
    public let database: Store
    let now: @Sendable () -> Date

    /// - Parameter now: the clock; tests pass a fixed one.
    public init(database: Store, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    /// Publishes new FREE slots and returns them as stored, in input order.
    ///
    /// All or nothing: `.validation(field: "status")` when a slot isn't FREE (or has a candidate or deadline),
    /// `.validation(field: "starts_at")` when one starts in the past — both checked before touching the database;
    /// the database's own failures (`.conflict` on `slots_recruiter_starts_at_key` for a duplicate start or on a
    /// foreign key for an unknown recruiter or city, `.validation` on a CHECK) leave nothing inserted either.
    public func publish(_ slots: [Slot]) async -> Result<[Slot], RepositoryError> {
        let instant = self.now()
        for (index, slot) in slots.enumerated() {
            guard slot.status == .free, slot.candidateTelegramID == nil, slot.reservedUntil == nil else {
                return .failure(
                    .validation(field: "status", message: "slot #\(index): only FREE slots without a candidate")
                )
            }
            guard slot.startsAt > instant else {
                return .failure(.validation(field: "starts_at", message: "slot #\(index) starts in the past"))
            }
        }
        return await database.withUnitOfWorkResult { uow throws(RepositoryError) in
            let published = try await uow.slots.addMany(slots).get()
            try await uow.commitResult().get()
            return published
        }
    }
}
