public import Logging
public import Persistence
public import ServiceLifecycle

/// Reads queue depth by state and the oldest ready job's age from the database every ``interval`` with one
/// statement over partial indexes, and hands it to the observer (for `slotworker_jobs_queue_depth` and
/// `slotworker_jobs_oldest_ready_age_seconds`). These gauges describe the whole queue, not this process, so every
/// worker reports the same values. Stops on graceful shutdown.
public struct QueueStatsSampler: Service {
    public let interval: Duration
    private let database: Database
    private let observer: any JobQueueObserver
    private let logger: Logger

    public init(
        database: Database,
        interval: Duration = .seconds(5),
        observer: any JobQueueObserver,
        logger: Logger
    ) {
        self.database = database
        self.interval = interval
        self.observer = observer
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    /// Samples once and reports the sample to the observer.
    public func sampleOnce() async -> Result<QueueSample, RepositoryError> {
        let result = await database.withJobs { await $0.sample() }
        if case .success(let sample) = result { observer.sampled(sample) }
        return result
    }

    private func loop() async {
        var failing = false
        while !Task.isCancelled {
            switch await sampleOnce() {
            case .success:
                failing = false
            case .failure(let error):
                if Task.isCancelled { return }
                observer.databaseFailed(error)
                if !failing { logger.warning("cannot sample the job queue", metadata: ["error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
