public import Foundation
public import Logging
public import Persistence
import PostgresClient
public import ServiceLifecycle

/// Enqueues ``PeriodicJob``s: in every worker, at each period boundary (and at start, for the current period), one
/// statement per job tries to record the period in `periodic_runs` and enqueue its job; only the first worker's
/// statement inserts anything. Clock skew between workers cannot duplicate a period.
///
/// A failed attempt (database down) is retried every second until the period is recorded; a period that ended
/// while the database was unreachable is skipped, not caught up. Stops on graceful shutdown.
public struct PeriodicScheduler: Service {
    private let jobs: [PeriodicJob]
    private let database: Database
    private let observer: any JobQueueObserver
    private let logger: Logger

    /// - Precondition: job names are unique.
    public init(
        jobs: [PeriodicJob], database: Database, observer: any JobQueueObserver = NoopJobQueueObserver(), logger: Logger
    ) {
        precondition(Set(jobs.map(\.name)).count == jobs.count, "periodic job names must be unique")
        self.jobs = jobs
        self.database = database
        self.observer = observer
        self.logger = logger
    }

    public func run() async throws {
        guard !jobs.isEmpty else {
            // Returning early would end a service group; idle until shutdown instead.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    /// Enqueues the current period of every job not done yet; returns the ids this call inserted, by name.
    public func enqueueDue(at date: Date = Date()) async -> Result<[String: Int64], RepositoryError> {
        var inserted: [String: Int64] = [:]
        for job in jobs {
            let start = job.periodStart(containing: date)
            switch await database.withJobs({ await $0.enqueuePeriodic(job, periodStart: start) }) {
            case .success(let id):
                if let id { inserted[job.name] = id }
            case .failure(let error):
                return .failure(error)
            }
        }
        return .success(inserted)
    }

    private func loop() async {
        var done: [String: Date] = [:]
        var failing = false
        while !Task.isCancelled {
            let now = Date()
            var failed = false
            for job in jobs {
                let start = job.periodStart(containing: now)
                guard done[job.name] != start else { continue }
                switch await database.withJobs({ await $0.enqueuePeriodic(job, periodStart: start) }) {
                case .success(let id):
                    done[job.name] = start
                    if let id {
                        logger.info(
                            "enqueued periodic job",
                            metadata: [
                                "job.id": "\(id)", "job.periodic": "\(job.name)", "job.period_start": "\(start)",
                            ]
                        )
                    }
                case .failure(let error):
                    failed = true
                    observer.databaseFailed(error)
                    if !failing {
                        logger.error(
                            "cannot enqueue periodic job; retrying",
                            metadata: ["job.periodic": "\(job.name)", "error": "\(error)"]
                        )
                    }
                }
            }
            failing = failed
            let nextBoundary = jobs.map { $0.periodStart(containing: now).addingTimeInterval($0.every.seconds) }.min()!
            let untilBoundary = max(0, nextBoundary.timeIntervalSinceNow) + 0.001
            let pause = failed ? min(untilBoundary, 1) : untilBoundary
            do { try await Task.sleep(for: .milliseconds(Int64(pause * 1000))) } catch { return }
        }
    }
}
