public import Logging
public import Persistence
public import ServiceLifecycle

/// Deletes finished jobs in batches: succeeded and cancelled jobs after ``completedRetention`` (default 24 h), dead
/// jobs after ``deadRetention`` (default 7 days), and periodic-run records after the longer of the two.
///
/// Each batch is one `DELETE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` over the finished-jobs
/// index, so pruners in several workers never wait on each other and no statement holds many locks; autovacuum
/// reclaims the space. Runs every ``interval`` and stops on graceful shutdown.
public struct JobPruner: Service {
    /// What one pruning pass deleted.
    public struct Pass: Sendable, Equatable {
        public var completed: Int
        public var dead: Int
        public var periodicRuns: Int

        public init(completed: Int, dead: Int, periodicRuns: Int) {
            self.completed = completed
            self.dead = dead
            self.periodicRuns = periodicRuns
        }
    }

    public let completedRetention: Duration
    public let deadRetention: Duration
    public let interval: Duration
    public let batchSize: Int
    private let database: Database
    private let observer: any JobQueueObserver
    private let logger: Logger

    public init(
        database: Database,
        completedRetention: Duration = .seconds(24 * 3600),
        deadRetention: Duration = .seconds(7 * 24 * 3600),
        interval: Duration = .seconds(60),
        batchSize: Int = 1000,
        observer: any JobQueueObserver = NoopJobQueueObserver(),
        logger: Logger
    ) {
        self.database = database
        self.completedRetention = completedRetention
        self.deadRetention = deadRetention
        self.interval = interval
        self.batchSize = max(1, batchSize)
        self.observer = observer
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    /// Prunes everything due now, batch after batch.
    public func pruneOnce() async -> Result<Pass, RepositoryError> {
        var pass = Pass(completed: 0, dead: 0, periodicRuns: 0)
        do {
            pass.completed = try await drain {
                await $0.pruneCompleted(olderThan: completedRetention, limit: batchSize)
            }
            pass.dead = try await drain { await $0.pruneDead(olderThan: deadRetention, limit: batchSize) }
            pass.periodicRuns = try await database.withJobs {
                await $0.prunePeriodicRuns(olderThan: max(completedRetention, deadRetention))
            }.get()
        } catch let error as RepositoryError {
            return .failure(error)
        } catch {
            return .failure(RepositoryError(error, operation: "jobs.prune"))
        }
        if pass.completed + pass.dead > 0 {
            logger.info(
                "pruned finished jobs",
                metadata: ["job.pruned_completed": "\(pass.completed)", "job.pruned_dead": "\(pass.dead)"]
            )
        }
        return .success(pass)
    }

    /// Repeats one batch statement until it deletes less than a full batch.
    private func drain(_ batch: (JobRepository) async -> Result<Int, RepositoryError>) async throws -> Int {
        var total = 0
        while !Task.isCancelled {
            let deleted = try await database.withJobs(batch).get()
            total += deleted
            if deleted < batchSize { break }
            await Task.yield()
        }
        return total
    }

    private func loop() async {
        while !Task.isCancelled {
            if case .failure(let error) = await pruneOnce(), !Task.isCancelled {
                observer.databaseFailed(error)
                logger.error("cannot prune finished jobs; retrying next interval", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
