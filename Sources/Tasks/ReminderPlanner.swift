import Domain
public import Foundation
import JobQueue
public import Logging
public import Persistence
public import PostgresClient
import Repositories
public import ServiceLifecycle

/// Derives reminders from the `slots` table (level-triggered): whoever booked the slot — this process, the
/// backend's SQL, an operator — every BOOKED or CONFIRMED slot gets each configured reminder.
///
/// ``plan()`` inserts the reminders falling due within the horizon (``ReminderRepository/plan``) and, in the same
/// Unit of Work, a delayed `reminders.send` job for each (`run_at` = due, unique key `reminder:<id>`). It is
/// idempotent: the reminders' identity (slot, offset, start) makes a second planner insert nothing. It runs
/// - once per ``ReminderSettings/plannerPeriod`` across all workers, as the periodic job `reminders.plan`, which
///   also re-enqueues the jobs of open reminders whose job was lost (``plan(repair:)``);
/// - at once in every worker when `slots` changes: a statement-level trigger NOTIFYs `slotworker_slots`, and
///   ``ReminderPlanner/WakeUps`` (a service) listens and plans, coalescing bursts.
public struct ReminderPlanner: Sendable {
    /// The channel the `slots_notify_change` trigger notifies.
    public static let channel = "slotworker_slots"

    let database: Database
    let settings: ReminderSettings
    let observer: any SlotTasksObserver
    let now: @Sendable () -> Date

    public init(
        database: Database, settings: ReminderSettings, observer: any SlotTasksObserver = NoopSlotTasksObserver(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.settings = settings
        self.observer = observer
        self.now = now
    }

    /// What one run did.
    public struct Outcome: Sendable, Equatable {
        /// Reminders planned (a send job each).
        public var planned: Int
        /// Reminders found more than the grace past due, recorded skipped (`late`).
        public var late: Int
    }

    /// Plans in one Unit of Work; throws database errors.
    ///
    /// - Parameter repair: also enqueue the jobs of open reminders planned earlier (deduplicated by their unique
    ///   keys, so only lost jobs are created again). The periodic run repairs; wake-ups only plan.
    @discardableResult
    public func plan(repair: Bool = false) async throws -> Outcome {
        let instant = now()
        let inserted = try await database.withUnitOfWork { uow in
            let rows = try await uow.reminders.plan(
                offsets: settings.offsets, now: instant, horizon: settings.horizon, grace: settings.grace
            ).get()
            var due = rows.filter { $0.state == .planned }
            if repair {
                let known = Set(due.map(\.id))
                due += try await uow.reminders.open(now: instant, horizon: settings.horizon, grace: settings.grace)
                    .get().filter { !known.contains($0.id) }
            }
            let jobs = try due.map { row in
                try NewJob(
                    SlotTasks.sendReminder,
                    payload: ReminderJob(reminderID: row.id),
                    schedule: .at(row.dueAt),
                    uniqueKey: "reminder:\(row.id)"
                )
            }
            for start in stride(from: 0, to: jobs.count, by: JobQueueClient.maxStatementSize) {
                let chunk = Array(jobs[start..<min(start + JobQueueClient.maxStatementSize, jobs.count)])
                _ = try await uow.jobs.enqueue(chunk).get()
            }
            try await uow.commit()
            return rows
        }
        var outcome = Outcome(planned: 0, late: 0)
        for row in inserted {
            if row.state == .planned {
                outcome.planned += 1
            } else {
                outcome.late += 1
                observer.reminderFinished(offset: row.offset, outcome: .skipped(.late))
            }
        }
        if outcome.planned + outcome.late > 0 {
            database.logger.info(
                "planned reminders",
                metadata: ["reminders.planned": "\(outcome.planned)", "reminders.late": "\(outcome.late)"])
        }
        return outcome
    }

    /// Deletes the finished reminders past ``ReminderSettings/retention`` whose slot started, `batch` rows per
    /// transaction until none is left; returns how many. Run by the periodic `reminders.plan`.
    public func pruneFinished(batch: Int = 1000) async throws -> Int {
        let instant = now()
        var total = 0
        while true {
            let deleted = try await database.withUnitOfWork { uow in
                let deleted = try await uow.reminders.pruneFinished(
                    olderThan: settings.retention, now: instant, limit: batch
                ).get()
                try await uow.commit()
                return deleted
            }
            total += deleted
            if deleted < batch { break }
        }
        if total > 0 { database.logger.info("pruned finished reminders", metadata: ["reminders.pruned": "\(total)"]) }
        return total
    }

    /// Plans whenever `slots` changes: LISTENs on ``ReminderPlanner/channel`` on a connection of its own and
    /// plans after every notification (bursts coalesce into one run) and after every (re)connect (notifications
    /// sent while disconnected are lost). Without it, planning still happens once per period.
    public struct WakeUps: Service {
        let planner: ReminderPlanner
        let listenConfiguration: PostgresConfiguration
        let logger: Logger

        public init(planner: ReminderPlanner, listenConfiguration: PostgresConfiguration, logger: Logger) {
            self.planner = planner
            self.listenConfiguration = listenConfiguration
            self.logger = logger
        }

        public func run() async throws {
            let listener: PostgresListener
            do {
                listener = try PostgresListener(
                    configuration: listenConfiguration, channels: [ReminderPlanner.channel], logger: logger)
            } catch {
                logger.error(
                    "cannot LISTEN for slot changes; planning once per period only", metadata: ["error": "\(error)"])
                try? await gracefulShutdown()
                return
            }
            let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in listener.events() { signal.yield() }
                        signal.finish()
                    }
                    group.addTask {
                        var failing = false
                        for await _ in signals {
                            do {
                                try await planner.plan()
                                failing = false
                            } catch {
                                if !failing {
                                    logger.error("planning reminders failed", metadata: ["error": "\(error)"])
                                }
                                failing = true
                            }
                        }
                    }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
