public import Logging
public import Persistence
public import ServiceLifecycle

/// Everything a worker process runs for the job queue, built from one configuration: the runner, a rescuer
/// matching its lease, the periodic scheduler, the pruner, the queue-stats sampler and the worker presence (the console's `workers` table).
///
/// Add ``services`` to the process's `ServiceGroup` in the given order: the group shuts services down in reverse,
/// so the runner drains first and the sampler stops last.
public struct JobQueueWorker: Sendable {
    public let runner: JobRunner
    public let rescuer: JobRescuer
    public let scheduler: PeriodicScheduler
    public let pruner: JobPruner
    public let sampler: QueueStatsSampler
    /// This worker's row in the `workers` table (the console's worker page).
    public let presence: WorkerPresence

    /// - Parameters:
    ///   - observer: the queue's events (metrics, poll progress and database errors of every part); shared by
    ///     runner, rescuer, scheduler, pruner and sampler. Combine several with ``FanOutJobQueueObserver``.
    public init(
        database: Database,
        registry: JobRegistry,
        configuration: JobRunnerConfiguration = JobRunnerConfiguration(),
        periodicJobs: [PeriodicJob] = [],
        completedRetention: Duration = .seconds(24 * 3600),
        deadRetention: Duration = .seconds(7 * 24 * 3600),
        pruneInterval: Duration = .seconds(60),
        sampleInterval: Duration = QueueStatsSampler.defaultInterval,
        unrunnableAfter: Duration = .seconds(60),
        observer: any JobQueueObserver = NoopJobQueueObserver(),
        logger: Logger
    ) {
        runner = JobRunner(
            configuration: configuration,
            registry: registry,
            database: database,
            observer: observer,
            logger: logger
        )
        rescuer = JobRescuer(
            database: database,
            runner: configuration,
            registry: registry,
            observer: observer,
            logger: logger
        )
        scheduler = PeriodicScheduler(jobs: periodicJobs, database: database, observer: observer, logger: logger)
        pruner = JobPruner(
            database: database,
            completedRetention: completedRetention,
            deadRetention: deadRetention,
            interval: pruneInterval,
            observer: observer,
            logger: logger
        )
        presence = WorkerPresence(pool: database.pool, configuration: configuration, logger: logger)
        sampler = QueueStatsSampler(
            database: database,
            worker: WorkerRegistration(
                workerID: configuration.workerID, queue: configuration.queue, kinds: registry.kinds),
            interval: sampleInterval,
            unrunnableAfter: unrunnableAfter,
            observer: observer,
            logger: logger
        )
    }

    /// In start order: presence, sampler, pruner, scheduler, rescuer, runner.
    public var services: [any Service] { [presence, sampler, pruner, scheduler, rescuer, runner] }
}
