import Domain
import Foundation
import InMemoryRepositories
import Persistence

/// The fixed clock of these tests.
let now = Date(timeIntervalSince1970: 1_900_000_000)

/// `now` shifted by `minutes`.
func at(minutes: Double) -> Date { now.addingTimeInterval(minutes * 60) }

/// A store holding one recruiter (id 1) and `slots` (ids from 2, in order), committed.
func store(slots: [Slot] = []) async throws -> (InMemoryStore, [Slot]) {
    let store = InMemoryStore()
    let stored = try await store.withUnitOfWork { uow in
        let recruiter = try await uow.recruiters.add(Recruiter(name: "Ada", telegramChatID: 77)).get()
        let added = try await uow.slots.addMany(
            slots.map { slot in
                var slot = slot
                slot.recruiterID = recruiter.id!
                return slot
            }
        ).get()
        try await uow.commit()
        return added
    }
    return (store, stored)
}

/// A slot starting `minutes` after `now` in `status` (a held status gets candidate 5001, RESERVED a deadline).
func slot(minutes: Double, status: SlotStatus = .free, reservedMinutes: Double = 10) -> Slot {
    Slot(
        recruiterID: 0,
        cityID: 1,
        startsAt: at(minutes: minutes),
        durationMinutes: 30,
        status: status,
        candidateTelegramID: status.requiresCandidate || status == .canceled ? 5001 : nil,
        reservedUntil: status == .reserved ? at(minutes: reservedMinutes) : nil
    )
}

extension RepositoryError {
    /// The field of a `.validation` error.
    var validationField: String? {
        if case .validation(let field, _) = self { return field }
        return nil
    }
}
