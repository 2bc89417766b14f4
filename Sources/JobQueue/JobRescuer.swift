public import Logging
public import Persistence
public import ServiceLifecycle

/// Takes back running jobs whose lease lapsed (their worker crashed, stalled or lost the database): one
/// `UPDATE … SKIP LOCKED` every ``interval`` (with ±20 % jitter), right away at start, and again at once while
/// batches come back full.
///
/// Run one in every worker process: rescuers never block each other, and no leader is needed. A rescued job with
/// attempts left is `available` again at once (the lapsed attempt counts); one that was on its last attempt is
/// `dead`. Stops on graceful shutdown.
///
/// A pass scans only leases that lapsed since shortly before the last complete pass (``RescueFloor``), with a pass
/// from the front now and then: while a snapshot is held, the lease index keeps a dead entry for every attempt
/// since, and a scan from the front would visit them all every ``interval``.
public struct JobRescuer: Service {
    private let database: Database
    private let interval: Duration
    private let batchSize: Int
    private let kindMaxAttempts: [String: Int]
    private let defaultMaxAttempts: Int
    private let observer: any JobQueueObserver
    private let logger: Logger

    /// - Parameters:
    ///   - interval: time between scans; a quarter of the runners' lease keeps recovery near one lease.
    ///   - registry: the kinds' attempt limits (for jobs that set none).
    ///   - defaultMaxAttempts: the runners' default attempt limit.
    public init(
        database: Database,
        interval: Duration = .milliseconds(7500),
        batchSize: Int = 1000,
        registry: JobRegistry = JobRegistry(),
        defaultMaxAttempts: Int = 20,
        observer: any JobQueueObserver = NoopJobQueueObserver(),
        logger: Logger
    ) {
        self.database = database
        self.interval = interval
        self.batchSize = max(1, batchSize)
        self.kindMaxAttempts = registry.maxAttemptsByKind
        self.defaultMaxAttempts = defaultMaxAttempts
        self.observer = observer
        self.logger = logger
    }

    /// A rescuer matching a runner: scans every quarter lease, with the runner's default attempt limit.
    public init(
        database: Database,
        runner configuration: JobRunnerConfiguration,
        registry: JobRegistry,
        observer: any JobQueueObserver = NoopJobQueueObserver(),
        logger: Logger
    ) {
        self.init(
            database: database,
            interval: configuration.lease / 4,
            registry: registry,
            defaultMaxAttempts: configuration.defaultMaxAttempts,
            observer: observer,
            logger: logger
        )
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    /// Rescues until a batch comes back short; returns the rescued jobs (also for tools and tests).
    public func rescueOnce() async -> Result<[RescuedJob], RepositoryError> {
        await rescue(from: nil).map(\.jobs)
    }

    /// A pass over leases from `floor` on (nil: all; see ``RescueFloor``): batches until one comes back short.
    /// Returns the rescued jobs and the database time of the last batch.
    func rescue(from floor: Double?) async -> Result<(jobs: [RescuedJob], scannedAt: Double), RepositoryError> {
        var all: [RescuedJob] = []
        while true {
            let result = await database.withJobs {
                await $0.rescueExpired(
                    limit: batchSize,
                    kindMaxAttempts: kindMaxAttempts,
                    defaultMaxAttempts: defaultMaxAttempts,
                    from: floor
                )
            }
            switch result {
            case .success(let (rescued, scannedAt)):
                all += rescued
                if !rescued.isEmpty {
                    observer.rescued(count: rescued.count)
                    logger.warning(
                        "rescued jobs whose lease lapsed",
                        metadata: [
                            "job.rescued": "\(rescued.count)",
                            "job.dead": "\(rescued.filter { $0.state == .dead }.count)",
                            "job.ids": "\(rescued.prefix(20).map(\.id))",
                        ]
                    )
                }
                if rescued.count < batchSize || Task.isCancelled { return .success((all, scannedAt)) }
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    private func loop() async {
        var failing = false
        var floor = RescueFloor()
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let from = floor.passStarting(at: started)
            switch await rescue(from: from) {
            case .success(let pass):
                floor.passEnded(from: from, started: started, at: .now, scannedAt: pass.scannedAt)
                failing = false
            case .failure(let error):
                if Task.isCancelled { return }
                observer.databaseFailed(error)
                if !failing { logger.error("cannot rescue expired jobs; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(for: interval * Double.random(in: 0.8...1.2)) } catch { return }
        }
    }
}
