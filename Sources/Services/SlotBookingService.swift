public import Domain
public import Foundation
public import Persistence
public import Repositories

/// Booking a slot (the guide's example 3): each call is one Unit of Work in which the slot change, its event-log
/// row and whatever the hooks write commit together or not at all.
///
/// Concurrency: the slot is read with `getForUpdate` (`SELECT … FOR UPDATE` on PostgreSQL), so concurrent bookings
/// of one slot queue on its row lock; the first commits, the others then see it RESERVED and fail with
/// `.validation(field: "status")`.
///
/// Generic over where its Units of Work come from: `SlotBookingService<Database>` in production (the type is
/// inferred from `init(database:)`), an in-memory store in unit tests of the booking rules.
public struct SlotBookingService<Store: UnitOfWorkProvider>: Sendable where Store.Work: DomainUnitOfWork {
    /// Work to do inside the booking's Unit of Work after the slot changed, e.g. a side record in the same
    /// transaction. Receives the slot as stored. A `.failure` rolls the whole booking back and is returned.
    public typealias Hook = @Sendable (Store.Work, Slot) async -> Result<Void, RepositoryError>

    public let database: Store
    let afterReserve: Hook?
    let afterConfirm: Hook?
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - afterReserve: runs after a slot was reserved (``book(slotID:candidateTelegramID:reservationTTL:)``).
    ///   - afterConfirm: runs after a reservation was confirmed (``confirm(slotID:candidateTelegramID:)``).
    ///     Reminders need no hook: the worker derives them from the `slots` table, however a booking was written.
    ///   - now: the clock; tests pass a fixed one.
    public init(
        database: Store,
        afterReserve: Hook? = nil,
        afterConfirm: Hook? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.afterReserve = afterReserve
        self.afterConfirm = afterConfirm
        self.now = now
    }

    /// Reserves a FREE slot for a candidate until now + `reservationTTL`.
    ///
    /// Steps, in one transaction: lock the slot; check it is FREE and has not started; set RESERVED, the
    /// candidate and `reserved_until`; add a `reserved` event; run `afterReserve`; commit.
    ///
    /// - Returns: the reserved slot, or
    ///   `.notFound(entity: "Slot")`;
    ///   `.validation(field: "status")` when the slot is not FREE;
    ///   `.validation(field: "starts_at")` when it already started;
    ///   `.validation(field: "candidate_telegram_id")` / `"reservation_ttl"` for a non-positive argument;
    ///   the hook's failure; `.database` (operation `uow.commit` when the commit failed).
    ///   Nothing is saved on failure.
    public func book(
        slotID: Int64,
        candidateTelegramID: Int64,
        reservationTTL: Duration
    ) async -> Result<Slot, RepositoryError> {
        guard candidateTelegramID > 0 else {
            return .failure(.validation(field: "candidate_telegram_id", message: "must be a positive Telegram id"))
        }
        guard reservationTTL > .zero else {
            return .failure(.validation(field: "reservation_ttl", message: "must be positive"))
        }
        return await database.withUnitOfWorkResult { uow throws(RepositoryError) in
            var slot = try await uow.slots.getForUpdate(slotID).get()
            guard slot.status == .free else {
                throw .validation(
                    field: "status",
                    message: "slot \(slotID) is \(slot.status.rawValue); only a FREE slot can be reserved"
                )
            }
            let instant = self.now()
            guard slot.startsAt > instant else {
                throw .validation(field: "starts_at", message: "slot \(slotID) has already started")
            }
            slot.status = .reserved
            slot.candidateTelegramID = candidateTelegramID
            slot.reservedUntil = instant.addingTimeInterval(reservationTTL.timeInterval)
            let reserved = try await uow.slots.update(slot).get()
            _ = try await uow.slotEvents.add(
                SlotEvent(slotID: slotID, kind: .reserved, candidateTelegramID: candidateTelegramID)
            ).get()
            if let afterReserve { try await afterReserve(uow, reserved).get() }
            try await uow.commitResult().get()
            return reserved
        }
    }

    /// Turns the candidate's unexpired reservation into a booking (RESERVED → BOOKED), in one transaction with a
    /// `booked` event and `afterConfirm`.
    ///
    /// - Returns: the booked slot, or `.notFound(entity: "Slot")`; `.validation(field: "status")` unless RESERVED;
    ///   `.validation(field: "candidate_telegram_id")` when another candidate holds it;
    ///   `.validation(field: "reserved_until")` when the reservation lapsed; the hook's failure; `.database`.
    public func confirm(slotID: Int64, candidateTelegramID: Int64) async -> Result<Slot, RepositoryError> {
        await database.withUnitOfWorkResult { uow throws(RepositoryError) in
            var slot = try await uow.slots.getForUpdate(slotID).get()
            guard slot.status == .reserved else {
                throw .validation(
                    field: "status",
                    message: "slot \(slotID) is \(slot.status.rawValue); only a RESERVED slot can be confirmed"
                )
            }
            guard slot.candidateTelegramID == candidateTelegramID else {
                throw .validation(
                    field: "candidate_telegram_id",
                    message: "slot \(slotID) is reserved by another candidate"
                )
            }
            guard let reservedUntil = slot.reservedUntil, reservedUntil >= self.now() else {
                throw .validation(field: "reserved_until", message: "the reservation of slot \(slotID) lapsed")
            }
            slot.status = .booked
            slot.reservedUntil = nil
            let booked = try await uow.slots.update(slot).get()
            _ = try await uow.slotEvents.add(
                SlotEvent(slotID: slotID, kind: .booked, candidateTelegramID: candidateTelegramID)
            ).get()
            if let afterConfirm { try await afterConfirm(uow, booked).get() }
            try await uow.commitResult().get()
            return booked
        }
    }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
