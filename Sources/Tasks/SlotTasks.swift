import Domain
public import Foundation
public import JobQueue
import Logging
public import Persistence
import Repositories

/// The domain's background work, as job kinds with handlers:
///
/// - `slots.release_lapsed` (periodic): RESERVED slots whose reservation deadline passed become FREE again;
/// - `slots.expire_past` (periodic): FREE and RESERVED slots whose start passed become EXPIRED;
/// - `reminders.send` (scheduled when a booking is confirmed, see ``ReminderScheduler``): sends the candidate a
///   reminder through Telegram, at most once per slot and reminder kind.
public enum SlotTasks {
    /// A payload-less periodic task.
    public struct Batch: Codable, Sendable, Equatable {
        /// Rows changed per transaction; the task re-enqueues nothing, the next period picks up the rest.
        public var limit: Int
        public init(limit: Int = 500) { self.limit = limit }
    }

    public static let releaseLapsed = JobKind<Batch>("slots.release_lapsed")
    public static let expirePast = JobKind<Batch>("slots.expire_past")
    public static let sendReminder = JobKind<ReminderPayload>("reminders.send")

    /// Registers the three handlers.
    ///
    /// - Parameters:
    ///   - sender: delivers reminder texts (``TelegramClient`` in production).
    ///   - now: the clock (tests pass a fixed one).
    public static func register(
        in registry: inout JobRegistry,
        database: Database,
        sender: any MessageSender,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        registry.register(releaseLapsed, timeout: .seconds(60)) { batch, context in
            let released = try await database.withUnitOfWork { uow in
                let ids = try await uow.slots.releaseLapsedReservations(now: now(), limit: batch.limit).get()
                try await uow.commit()
                return ids
            }
            if !released.isEmpty {
                context.logger.info("released lapsed reservations", metadata: ["slots.count": "\(released.count)"])
            }
            return .success
        }
        registry.register(expirePast, timeout: .seconds(60)) { batch, context in
            let expired = try await database.withUnitOfWork { uow in
                let ids = try await uow.slots.expirePast(now: now(), limit: batch.limit).get()
                try await uow.commit()
                return ids
            }
            if !expired.isEmpty {
                context.logger.info("expired past slots", metadata: ["slots.count": "\(expired.count)"])
            }
            return .success
        }
        registry.register(sendReminder, timeout: .seconds(30), maxAttempts: 8) { payload, context in
            try await ReminderSender(database: database, sender: sender).send(payload, logger: context.logger)
        }
    }

    /// The periodic jobs of the domain, one run per period across all workers.
    public static func periodicJobs(release: PeriodicSchedule, expire: PeriodicSchedule) throws -> [PeriodicJob] {
        [
            try PeriodicJob(releaseLapsed, payload: Batch(), schedule: release),
            try PeriodicJob(expirePast, payload: Batch(), schedule: expire),
        ]
    }
}
