import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import Repositories

/// Releases lapsed reservations and expires past slots: batch after batch, each its own Unit of Work (the batch's
/// status changes, its `slot_events` rows and, when enabled, the candidates' notice jobs commit together), until a
/// batch comes back short. Safe with several workers: batches lock rows with `SKIP LOCKED`.
struct SlotExpiry: Sendable {
    let database: Database
    let settings: ReminderSettings
    let observer: any SlotTasksObserver
    let now: @Sendable () -> Date

    func releaseLapsed(batch: SlotTasks.Batch, logger: Logger) async throws {
        var total = 0
        while true {
            let released = try await database.withUnitOfWork { uow in
                let transitions = try await uow.slots.releaseLapsedReservations(now: now(), limit: batch.limit).get()
                if settings.notifyLapsedReservations {
                    let notices = try transitions.compactMap { transition -> NewJob? in
                        guard let candidate = transition.candidateTelegramID else { return nil }
                        return try NewJob(
                            SlotTasks.notifyLapsed,
                            payload: SlotTasks.LapsedNotice(slotID: transition.slotID, candidateTelegramID: candidate)
                        )
                    }
                    _ = try await uow.jobs.enqueue(notices).get()
                }
                try await uow.commit()
                return transitions
            }
            report(released, reason: "lapsed")
            total += released.count
            if released.count < batch.limit { break }
        }
        if total > 0 { logger.info("released lapsed reservations", metadata: ["slots.count": "\(total)"]) }
    }

    func expirePast(batch: SlotTasks.Batch, logger: Logger) async throws {
        var total = 0
        while true {
            let expired = try await database.withUnitOfWork { uow in
                let transitions = try await uow.slots.expirePast(now: now(), limit: batch.limit).get()
                try await uow.commit()
                return transitions
            }
            report(expired, reason: "past")
            total += expired.count
            if expired.count < batch.limit { break }
        }
        if total > 0 { logger.info("expired past slots", metadata: ["slots.count": "\(total)"]) }
    }

    private func report(_ transitions: [SlotTransition], reason: String) {
        var counts: [[SlotStatus]: Int] = [:]
        for transition in transitions { counts[[transition.from, transition.to], default: 0] += 1 }
        for (pair, count) in counts {
            observer.slotTransitions(from: pair[0], to: pair[1], reason: reason, count: count)
        }
    }
}

/// Tells a candidate their reservation lapsed (template `reservation.lapsed`), within the shared rate limit.
/// At-least-once like reminders; skipped when the candidate is unreachable.
struct LapsedNoticeSender: Sendable {
    let database: Database
    let delivery: TelegramDelivery

    func run(_ notice: SlotTasks.LapsedNotice, context: JobContext) async throws -> JobResult {
        let prepared = try await database.withUnitOfWork { uow -> Result<String, TemplateResolver.Failure>? in
            let loaded: SlotWithRelations
            switch await uow.slots.getWithRelations(notice.slotID) {
            case .success(let value): loaded = value
            case .failure(.notFound): return nil
            case .failure(let error): throw error
            }
            let candidate: User?
            switch await uow.users.getByTelegramID(notice.candidateTelegramID) {
            case .success(let user): candidate = user
            case .failure(.notFound): candidate = nil
            case .failure(let error): throw error
            }
            guard !(try await uow.reminders.isUnreachable(telegramID: notice.candidateTelegramID).get()) else {
                return nil
            }
            return try await TemplateResolver.render(
                uow, keys: [SlotTasks.lapsedTemplateKey], cityID: loaded.city.id, cityName: loaded.city.name,
                locale: candidate?.locale,
                values: MessageTemplateRenderer.Values(
                    candidateName: candidate?.name, city: loaded.city.name, timeZone: loaded.city.timeZone,
                    recruiter: loaded.recruiter.name, address: nil, link: nil,
                    durationMinutes: loaded.slot.durationMinutes, startsAt: loaded.slot.startsAt
                )
            )
        }
        guard let prepared else { return .cancel("slot deleted or candidate unreachable") }
        let text: String
        switch prepared {
        case .success(let value): text = value
        case .failure(let failure): return .fail("template_error: \(failure.description)")
        }
        switch try await delivery.waitForTurn(chatID: notice.candidateTelegramID) {
        case .now: break
        case .later(let wait): return .snooze(wait)
        }
        do {
            _ = try await delivery.sender.sendMessage(chatID: notice.candidateTelegramID, text: text)
            return .success
        } catch {
            switch error.kind {
            case .chatUnreachable, .rejected: return .fail(error.description)
            case .rateLimited:
                let wait = error.retryAfter ?? .seconds(5)
                try await delivery.penalize(retryAfter: wait)
                return .snooze(wait)
            case .serverError, .timeout, .network, .invalidResponse: return .retry(reason: error.description)
            }
        }
    }
}
