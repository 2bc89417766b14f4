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
/// - `reminders.plan` (periodic, and woken by slot changes, see ``ReminderPlanner``): plans reminders; the periodic
///   run also deletes finished reminders past their retention;
/// - `reminders.send` (planned): sends one reminder (``ReminderSender``);
/// - `slots.notify_lapsed` (enqueued with a release when enabled): tells the candidate their reservation lapsed.
public enum SlotTasks {
    /// Rows changed per transaction of the expiry tasks; a run repeats batches until none is left.
    public struct Batch: Codable, Sendable, Equatable {
        public var limit: Int
        public init(limit: Int = 500) { self.limit = limit }
    }

    /// The payload of `reminders.plan`.
    public struct Plan: Codable, Sendable, Equatable {
        public init() {}
    }

    /// The payload of `slots.notify_lapsed`.
    public struct LapsedNotice: Codable, Sendable, Equatable {
        public var slotID: Int64
        public var candidateTelegramID: Int64
        public init(slotID: Int64, candidateTelegramID: Int64) {
            self.slotID = slotID
            self.candidateTelegramID = candidateTelegramID
        }
        enum CodingKeys: String, CodingKey {
            case slotID = "slot_id"
            case candidateTelegramID = "candidate_telegram_id"
        }
    }

    public static let releaseLapsed = JobKind<Batch>("slots.release_lapsed")
    public static let expirePast = JobKind<Batch>("slots.expire_past")
    public static let planReminders = JobKind<Plan>("reminders.plan")
    public static let sendReminder = JobKind<ReminderJob>("reminders.send")
    public static let notifyLapsed = JobKind<LapsedNotice>("slots.notify_lapsed")

    /// The template of the lapsed-reservation notice.
    public static let lapsedTemplateKey = "reservation.lapsed"

    /// Registers the handlers.
    ///
    /// - Parameters:
    ///   - sender: delivers texts (``TelegramClient`` in production).
    ///   - now: the clock (tests pass their own).
    public static func register(
        in registry: inout JobRegistry,
        database: Database,
        sender: any MessageSender,
        settings: ReminderSettings,
        observer: any SlotTasksObserver = NoopSlotTasksObserver(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let delivery = TelegramDelivery(database: database, sender: sender, settings: settings)
        let expiry = SlotExpiry(database: database, settings: settings, observer: observer, now: now)
        let planner = ReminderPlanner(database: database, settings: settings, observer: observer, now: now)
        let reminders = ReminderSender(
            database: database, delivery: delivery, settings: settings, observer: observer, now: now)
        observer.prepare(offsets: settings.offsets)

        registry.register(releaseLapsed, timeout: .seconds(300)) { batch, context in
            try await expiry.releaseLapsed(batch: batch, logger: context.logger)
            return .success
        }
        registry.register(expirePast, timeout: .seconds(300)) { batch, context in
            try await expiry.expirePast(batch: batch, logger: context.logger)
            return .success
        }
        registry.register(planReminders, timeout: .seconds(120)) { _, _ in
            try await planner.plan(repair: true)
            _ = try await planner.pruneFinished()
            _ = try await database.withSession { context in
                try await TelegramLimitRepository(context: context).pruneChats(olderThan: .seconds(3600)).get()
            }
            return .success
        }
        // Retries are cheap (backoff 1 s doubling to 60 s); the grace ends them: a reminder more than the grace
        // past due is skipped (`late`), whatever attempts remain.
        registry.register(
            sendReminder, timeout: .seconds(60), maxAttempts: 25,
            retry: RetryPolicy(base: .seconds(1), cap: .seconds(60))
        ) { job, context in
            try await reminders.run(job, context: context)
        }
        registry.register(
            notifyLapsed, timeout: .seconds(60), maxAttempts: 10,
            retry: RetryPolicy(base: .seconds(1), cap: .seconds(60))
        ) { notice, context in
            try await LapsedNoticeSender(database: database, delivery: delivery).run(notice, context: context)
        }
    }

    /// The periodic jobs of the domain, one run per period across all workers.
    public static func periodicJobs(release: PeriodicSchedule, expire: PeriodicSchedule, settings: ReminderSettings)
        throws -> [PeriodicJob]
    {
        [
            try PeriodicJob(releaseLapsed, payload: Batch(), schedule: release),
            try PeriodicJob(expirePast, payload: Batch(), schedule: expire),
            try PeriodicJob(planReminders, payload: Plan(), schedule: .every(settings.plannerPeriod)),
        ]
    }
}
