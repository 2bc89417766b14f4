import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import Repositories

/// Sends one reminder: the handler body of `reminders.send`.
///
/// In one Unit of Work: load the slot with its recruiter and city; skip (cancel the job) unless it is BOOKED or
/// CONFIRMED with a candidate; record the reminder in `sent_reminders` (unique per slot and kind — a second run
/// finds it and stops); pick the template (the city's override, else the default); send; commit. A failed send
/// rolls the record back, so a retry sends again: delivery is at least once, and exactly once unless the commit
/// itself fails after Telegram accepted the message.
struct ReminderSender {
    let database: Database
    let sender: any MessageSender

    func send(_ payload: ReminderPayload, logger: Logger) async throws -> JobResult {
        guard ReminderScheduler.kinds.contains(where: { $0.name == payload.kind }) else {
            throw JobError.permanent("unknown reminder kind \"\(payload.kind)\"")
        }
        return try await database.withUnitOfWork { uow in
            let loaded: SlotWithRelations
            switch await uow.slots.getWithRelations(payload.slotID) {
            case .success(let value): loaded = value
            case .failure(.notFound): return .cancel("slot \(payload.slotID) no longer exists")
            case .failure(let error): throw error
            }
            let slot = loaded.slot
            guard slot.status == .booked || slot.status == .confirmed, let chatID = slot.candidateTelegramID else {
                return .cancel("slot \(payload.slotID) is \(slot.status.rawValue); no reminder")
            }
            guard try await uow.reminders.markSent(slotID: payload.slotID, kind: payload.kind).get() else {
                return .success  // already sent by an earlier run
            }
            let body: String
            switch await uow.templates.find(key: "reminder.\(payload.kind)", cityID: loaded.city.id) {
            case .success(let template): body = template.body
            case .failure(.notFound): body = ReminderText.fallbackTemplate
            case .failure(let error): throw error
            }
            let text = ReminderText.render(body, for: loaded)
            do {
                try await sender.sendMessage(chatID: chatID, text: text)
            } catch let error as TelegramError where !error.isRetryable {
                throw JobError.permanent(error.description)
            } catch let error as TelegramError {
                if let retryAfter = error.retryAfter { return .retry(after: retryAfter, reason: error.description) }
                throw error
            }
            try await uow.commit()
            logger.info(
                "reminder sent", metadata: ["slot.id": "\(payload.slotID)", "reminder.kind": "\(payload.kind)"])
            return .success
        }
    }
}
