import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import Repositories

/// The payload of `reminders.send`: which planned reminder.
public struct ReminderJob: Codable, Sendable, Equatable {
    public var reminderID: Int64
    public init(reminderID: Int64) { self.reminderID = reminderID }
    enum CodingKeys: String, CodingKey { case reminderID = "reminder_id" }
}

/// Sends one reminder: the handler body of `reminders.send`.
///
/// Never holds a transaction or a pooled connection across the Bot API call:
/// 1. one short Unit of Work locks the reminder, reads its slot, decides (``ReminderDecision``), renders the
///    template and records a skip, a template error, or `sending`;
/// 2. one statement reserves the send instant in the shared rate limit; the task sleeps until it with no
///    connection;
/// 3. the Bot API call;
/// 4. one statement records `sent` (with the message id), a failure, or `planned` again for a retry.
///
/// Delivery is at-least-once: a crash between 3 and 4 leaves the reminder `sending`; the job's lease lapses, the
/// job is rescued and the message is sent again. It is never lost, and sent twice only in that window (a crash
/// before 3 leaves it `sending` too, and it is then sent once).
struct ReminderSender {
    let database: Database
    let delivery: TelegramDelivery
    let settings: ReminderSettings
    let observer: any SlotTasksObserver
    let now: @Sendable () -> Date

    private enum Prepared {
        case done(JobResult)
        case send(chatID: Int64, text: String, offset: ReminderOffset, dueAt: Date)
    }

    func run(_ job: ReminderJob, context: JobContext) async throws -> JobResult {
        let logger = context.logger
        let prepared = try await database.withUnitOfWork { uow -> Prepared in
            let loaded: ReminderSendContext
            switch await uow.reminders.loadForSend(job.reminderID) {
            case .success(let value): loaded = value
            case .failure(.notFound): return .done(.cancel("reminder \(job.reminderID) no longer exists"))
            case .failure(let error): throw error
            }
            let reminder = loaded.reminder
            let decision = ReminderDecision.decide(
                reminder: reminder, slot: loaded.slot, candidateUnreachable: loaded.candidateUnreachable,
                now: now(), grace: settings.grace
            )
            switch decision {
            case .finished:
                return .done(.success)
            case .wait(let until):
                return .done(.snooze(.milliseconds(Int64(max(1, until.timeIntervalSince(now()) * 1000).rounded(.up)))))
            case .skip(let reason):
                let message = Self.skipMessage(reason, reminder: reminder, slot: loaded.slot)
                try await uow.reminders.finish(reminder.id, state: .skipped, reason: reason.rawValue, message: message)
                    .get()
                try await uow.commit()
                observer.reminderFinished(offset: reminder.offset, outcome: .skipped(reason))
                logger.info(
                    "reminder skipped",
                    metadata: ["reminder.id": "\(reminder.id)", "reminder.reason": "\(reason.rawValue)"])
                return .done(.cancel("skipped (\(reason.rawValue)): \(message)"))
            case .send(let chatID):
                let values = loaded.values!
                let rendered = try await TemplateResolver.render(
                    uow, keys: [reminder.offset.templateKey, ReminderOffset.genericTemplateKey],
                    cityID: loaded.cityID, cityName: values.city, locale: loaded.locale, values: values
                )
                switch rendered {
                case .success(let text):
                    try await uow.reminders.markSending(reminder.id, chatID: chatID).get()
                    try await uow.commit()
                    return .send(chatID: chatID, text: text, offset: reminder.offset, dueAt: reminder.dueAt)
                case .failure(let failure):
                    try await uow.reminders.finish(
                        reminder.id, state: .skipped, reason: ReminderSkipReason.templateError.rawValue,
                        message: failure.description
                    ).get()
                    try await uow.commit()
                    observer.reminderFinished(offset: reminder.offset, outcome: .skipped(.templateError))
                    logger.error("reminder template error", metadata: ["error": "\(failure.description)"])
                    return .done(.fail("template_error: \(failure.description)"))
                }
            }
        }
        guard case .send(let chatID, let text, let offset, let dueAt) = prepared else {
            if case .done(let result) = prepared { return result }
            return .success
        }

        switch try await delivery.waitForTurn(chatID: chatID) {
        case .now: break
        case .later(let wait): return .snooze(wait)
        }

        let messageID: Int64?
        do {
            messageID = try await delivery.sender.sendMessage(chatID: chatID, text: text)
        } catch {
            return try await failed(error, job: job, offset: offset, chatID: chatID, context: context)
        }
        let sentAt = now()
        try await withReminders { try await $0.markSent(job.reminderID, messageID: messageID, at: sentAt).get() }
        observer.reminderFinished(offset: offset, outcome: .sent)
        observer.reminderSent(offset: offset, lagSeconds: sentAt.timeIntervalSince(dueAt))
        logger.info(
            "reminder sent",
            metadata: [
                "reminder.id": "\(job.reminderID)", "reminder.offset": "\(offset.label)",
                "telegram.message_id": "\(messageID.map(String.init) ?? "none")",
            ]
        )
        return .success
    }

    /// Records a failed Bot API call and says what the job does next.
    private func failed(
        _ error: TelegramError, job: ReminderJob, offset: ReminderOffset, chatID: Int64, context: JobContext
    ) async throws -> JobResult {
        let logger = context.logger
        switch error.kind {
        case .chatUnreachable:
            try await database.withUnitOfWork { uow in
                try await uow.reminders.markUnreachable(telegramID: chatID, reason: error.message).get()
                try await uow.reminders.finish(
                    job.reminderID, state: .failed, reason: ReminderFailureClass.unreachable.rawValue,
                    message: error.description
                ).get()
                try await uow.commit()
            }
            observer.reminderFinished(offset: offset, outcome: .failed(.unreachable))
            logger.warning("candidate unreachable", metadata: ["error": "\(error.description)"])
            return .fail(error.description)
        case .rejected:
            try await withReminders {
                try await $0.finish(
                    job.reminderID, state: .failed, reason: ReminderFailureClass.rejected.rawValue,
                    message: error.description
                ).get()
            }
            observer.reminderFinished(offset: offset, outcome: .failed(.rejected))
            return .fail(error.description)
        case .rateLimited:
            let wait = error.retryAfter ?? .seconds(5)
            try await delivery.penalize(retryAfter: wait)
            try await withReminders { try await $0.markRetrying(job.reminderID, message: error.description).get() }
            logger.warning("Telegram rate limit; waiting", metadata: ["retry_after": "\(wait)"])
            return .snooze(wait)
        case .serverError, .timeout, .network, .invalidResponse:
            let failureClass = Self.failureClass(error.kind)
            if context.isLastAttempt {
                try await withReminders {
                    try await $0.finish(
                        job.reminderID, state: .failed, reason: failureClass.rawValue, message: error.description
                    ).get()
                }
                observer.reminderFinished(offset: offset, outcome: .failed(failureClass))
                return .fail(error.description)
            }
            try await withReminders { try await $0.markRetrying(job.reminderID, message: error.description).get() }
            return .retry(reason: error.description)
        }
    }

    static func failureClass(_ kind: TelegramError.Kind) -> ReminderFailureClass {
        switch kind {
        case .chatUnreachable: .unreachable
        case .rejected: .rejected
        case .rateLimited: .rateLimited
        case .serverError: .serverError
        case .timeout: .timeout
        case .network: .network
        case .invalidResponse: .invalidResponse
        }
    }

    static func skipMessage(_ reason: ReminderSkipReason, reminder: Reminder, slot: ReminderDecision.SlotState?)
        -> String
    {
        switch reason {
        case .notBooked:
            guard let slot else { return "slot \(reminder.slotID) was deleted" }
            return "slot \(reminder.slotID) is \(slot.status.rawValue)"
        case .moved:
            return "slot \(reminder.slotID) moved from \(reminder.startsAt) to \(slot.map { "\($0.startsAt)" } ?? "?")"
        case .late: return "more than the grace past due (\(reminder.dueAt)) or the interview began"
        case .unreachable: return "the candidate is marked unreachable"
        case .templateError: return "template error"
        }
    }

    /// One autocommit statement on a pooled connection.
    private func withReminders(_ body: (ReminderRepository) async throws -> Void) async throws {
        try await database.withSession { context in try await body(ReminderRepository(context: context)) }
    }
}
