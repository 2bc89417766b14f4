import Domain
import Foundation
import InMemoryRepositories
import Persistence
import Services
import Synchronization
import Testing

/// The booking rules against in-memory repositories: no database, one Unit of Work per call, checked through what
/// the store committed and how each Unit of Work ended. `SlotBookingServiceTests` runs the same service on
/// PostgreSQL.
@Suite("Slot booking rules (in-memory repositories)")
struct SlotBookingServiceUnitTests {
    func service(
        _ store: InMemoryStore,
        afterReserve: SlotBookingService<InMemoryStore>.Hook? = nil,
        afterConfirm: SlotBookingService<InMemoryStore>.Hook? = nil
    ) -> SlotBookingService<InMemoryStore> {
        SlotBookingService(database: store, afterReserve: afterReserve, afterConfirm: afterConfirm, now: { now })
    }

    @Test func bookingReservesAFreeSlotAndCommitsTheSlotAndItsEventTogether() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120)])
        let id = slots[0].id!
        let reserved = try await service(store).book(
            slotID: id, candidateTelegramID: 4242, reservationTTL: .seconds(900)
        )
        .get()
        #expect(reserved.status == .reserved)
        #expect(reserved.candidateTelegramID == 4242)
        #expect(reserved.reservedUntil == at(minutes: 15))
        let committed = store.tables
        #expect(committed.slots[id] == reserved)
        #expect(committed.slotEvents.values.map(\.kind) == [.reserved])
        #expect(committed.slotEvents.values.map(\.candidateTelegramID) == [4242])
        #expect(store.outcomes == [.committed, .committed])  // the seed, then the booking
    }

    @Test(
        "only a FREE slot can be reserved; nothing changes otherwise",
        arguments: [SlotStatus.reserved, .booked, .confirmed, .canceled, .expired]
    )
    func onlyFreeSlotsCanBeReserved(status: SlotStatus) async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120, status: status)])
        let before = store.tables
        let result = await service(store).book(
            slotID: slots[0].id!, candidateTelegramID: 2, reservationTTL: .seconds(60))
        #expect(
            result.failure
                == .validation(
                    field: "status",
                    message: "slot \(slots[0].id!) is \(status.rawValue); only a FREE slot can be reserved"
                )
        )
        #expect(store.tables == before)
        #expect(store.outcomes.last == .rolledBack)
    }

    @Test func aStartedSlotOrAMissingOneCannotBeReserved() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: -1)])
        let booking = service(store)
        let started = await booking.book(slotID: slots[0].id!, candidateTelegramID: 2, reservationTTL: .seconds(60))
        #expect(started.failure?.validationField == "starts_at")
        let missing = await booking.book(slotID: 999, candidateTelegramID: 2, reservationTTL: .seconds(60))
        #expect(missing.failure == .notFound(entity: "Slot", id: "999"))
        #expect(store.tables.slots[slots[0].id!]?.status == .free)
        #expect(store.tables.slotEvents.isEmpty)
    }

    @Test func badArgumentsAreRefusedBeforeAnyUnitOfWork() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120)])
        let booking = service(store)
        let id = slots[0].id!
        #expect(
            await booking.book(slotID: id, candidateTelegramID: 0, reservationTTL: .seconds(60)).failure?
                .validationField == "candidate_telegram_id")
        #expect(
            await booking.book(slotID: id, candidateTelegramID: 3, reservationTTL: .zero).failure?.validationField
                == "reservation_ttl")
        #expect(store.outcomes == [.committed])  // only the seed
    }

    @Test func aFailingHookRollsTheReservationBackAndIsReturned() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120)])
        let before = store.tables
        let hookFailure = RepositoryError.conflict(constraint: "outbox", message: "notification refused")
        let sawReserved = Mutex(false)
        let booking = service(store) { uow, reserved in
            // The hook runs inside the booking's Unit of Work: it sees the change, which nobody else does yet.
            let inside = await uow.slots.get(reserved.id!)
            sawReserved.withLock { $0 = inside.value?.status == .reserved && store.tables == before }
            return .failure(hookFailure)
        }
        let result = await booking.book(slotID: slots[0].id!, candidateTelegramID: 9, reservationTTL: .seconds(60))
        #expect(result.failure == hookFailure)
        #expect(sawReserved.withLock { $0 })
        #expect(store.tables == before)
        #expect(store.outcomes.last == .rolledBack)
    }

    @Test func aHooksWritesCommitWithTheSlot() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120)])
        let booking = service(store) { uow, reserved in
            await uow.slotEvents.add(SlotEvent(slotID: reserved.id!, kind: .published)).map { _ in () }
        }
        _ = try await booking.book(slotID: slots[0].id!, candidateTelegramID: 9, reservationTTL: .seconds(60)).get()
        #expect(Set(store.tables.slotEvents.values.map(\.kind)) == [.reserved, .published])
        #expect(store.tables.slots[slots[0].id!]?.status == .reserved)
    }

    @Test func aFailedEventWriteOrCommitLeavesTheSlotFree() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120)])
        let before = store.tables
        let booking = service(store)
        let id = slots[0].id!

        let broken = RepositoryError.database(
            DatabaseFailure(operation: "slot_events.add", message: "disk full", sqlState: "53100", underlying: nil))
        store.failOperation("slot_events.add", with: broken)
        #expect(await booking.book(slotID: id, candidateTelegramID: 9, reservationTTL: .seconds(60)).failure == broken)
        #expect(store.tables == before)

        let commitFailure = RepositoryError.database(
            DatabaseFailure(operation: "uow.commit", message: "connection lost", sqlState: "08006", underlying: nil))
        let fresh = InMemoryStore(before)
        fresh.failNextCommit(with: commitFailure)
        let result = await service(fresh).book(slotID: id, candidateTelegramID: 9, reservationTTL: .seconds(60))
        #expect(result.failure == commitFailure)
        #expect(fresh.tables == before)
        #expect(fresh.outcomes == [.failed])
        // The fault is spent: the same booking then succeeds.
        #expect(await service(fresh).book(slotID: id, candidateTelegramID: 9, reservationTTL: .seconds(60)).isSuccess)
    }

    @Test func confirmTurnsTheCandidatesReservationIntoABooking() async throws {
        let (store, slots) = try await store(slots: [
            slot(minutes: 120, status: .reserved, reservedMinutes: 10),
            slot(minutes: 180, status: .reserved, reservedMinutes: -1),
            slot(minutes: 240),
        ])
        let scheduled = Mutex<[Int64]>([])
        let booking = service(
            store,
            afterConfirm: { _, booked in
                scheduled.withLock { $0.append(booked.id!) }
                return .success(())
            })
        let booked = try await booking.confirm(slotID: slots[0].id!, candidateTelegramID: 5001).get()
        #expect(booked.status == .booked)
        #expect(booked.reservedUntil == nil)
        #expect(store.tables.slots[slots[0].id!] == booked)
        #expect(store.tables.slotEvents.values.map(\.kind) == [.booked])
        #expect(scheduled.withLock { $0 } == [slots[0].id!])

        let before = store.tables
        #expect(
            await booking.confirm(slotID: slots[0].id!, candidateTelegramID: 5001).failure?.validationField
                == "status")
        #expect(
            await booking.confirm(slotID: slots[1].id!, candidateTelegramID: 5001).failure?.validationField
                == "reserved_until")
        #expect(
            await booking.confirm(slotID: slots[2].id!, candidateTelegramID: 5001).failure?.validationField
                == "status")
        #expect(store.tables == before)
    }

    @Test func anotherCandidateCannotConfirm() async throws {
        let (store, slots) = try await store(slots: [slot(minutes: 120, status: .reserved)])
        let result = await service(store).confirm(slotID: slots[0].id!, candidateTelegramID: 6002)
        #expect(result.failure?.validationField == "candidate_telegram_id")
        #expect(store.tables.slots[slots[0].id!]?.status == .reserved)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }

    var value: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
