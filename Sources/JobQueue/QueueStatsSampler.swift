public import Logging
public import Persistence
import PostgresClient
public import ServiceLifecycle

/// Every ``interval``, registers this worker's kinds in `job_workers` and reads a ``QueueSample`` (queue depth by
/// state over partial indexes, the oldest ready job's age, ready jobs no live worker runs, the xmin horizon's age,
/// and dead tuples, sizes and vacuum ages of the queue's tables), and hands it to the observer. What holds the
/// horizon without a readable start (other roles' sessions, replication slots) is timed across samples
/// (``HorizonWatch``). These gauges describe the whole queue, not this process, so every worker reports the same
/// values. Stops on graceful shutdown.
///
/// The depth counts walk partial indexes, dead entries included: while a snapshot is held (a `pg_dump`, a long
/// REPEATABLE READ report) VACUUM removes none, so a sample's cost grows with every job processed since the snapshot
/// was taken (0.2–1.7 s at 5,000 jobs/s after a minute on this machine kind). A slow sample therefore spaces out the
/// next one (``pause(after:interval:)``), so sampling takes at most 1/``costShare`` of the time it runs in.
public struct QueueStatsSampler: Service {
    public let interval: Duration
    /// This worker, as registered for the `unrunnable` count.
    public let worker: WorkerRegistration
    /// Ready jobs waiting longer than this, of a kind no live worker registered, count as unrunnable.
    public let unrunnableAfter: Duration
    private let database: Database
    private let observer: any JobQueueObserver
    private let logger: Logger

    public init(
        database: Database,
        worker: WorkerRegistration,
        interval: Duration = Self.defaultInterval,
        unrunnableAfter: Duration = .seconds(60),
        observer: any JobQueueObserver,
        logger: Logger
    ) {
        self.database = database
        self.worker = worker
        self.interval = interval
        self.unrunnableAfter = unrunnableAfter
        self.observer = observer
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    /// Samples once and reports the sample to the observer, its horizon age including the snapshots `watch` times.
    package func sampleOnce(watch: inout HorizonWatch) async -> Result<QueueSample, RepositoryError> {
        let liveWithin = Self.liveWindow(interval: interval)
        let result = await database.withJobs {
            await $0.sample(worker: worker, liveWithin: liveWithin, unrunnableAfter: unrunnableAfter)
        }
        guard case .success(var sample) = result else { return result }
        let hidden = watch.observe(sample.hiddenSnapshots, at: .now)
        sample.horizonAge = max(sample.horizonAge, hidden.seconds)
        observer.sampled(sample)
        return .success(sample)
    }

    /// The sampling interval when none is given.
    public static let defaultInterval: Duration = .seconds(5)

    /// How recently a worker must have registered to count as live, for samplers every `interval`: three intervals,
    /// at least 30 s (a missed sample or two does not make a worker dead).
    public static func liveWindow(interval: Duration) -> Duration {
        max(interval * 3, .seconds(30))
    }

    /// A sample takes at most this share (1/n) of the sampler's time.
    static let costShare = 20

    /// The pause after a sample that took `duration`: ``interval``, or `costShare` times the sample's duration when
    /// that is longer (capped at 10 minutes).
    static func pause(after duration: Duration, interval: Duration) -> Duration {
        max(interval, min(duration * costShare, .seconds(600)))
    }

    private func loop() async {
        var failing = false
        var watch = HorizonWatch()
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let result = await sampleOnce(watch: &watch)
            let pause = Self.pause(after: .now - started, interval: interval)
            switch result {
            case .success:
                failing = false
            case .failure(let error):
                if Task.isCancelled { return }
                observer.databaseFailed(error)
                if !failing { logger.warning("cannot sample the job queue", metadata: ["error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(for: pause) } catch { return }
        }
    }
}
