public import Logging
public import Persistence
public import ServiceLifecycle

/// Runs jobs of one queue: a swift-service-lifecycle `Service`.
///
/// - **Claiming**: one prepared statement claims up to the free capacity (`FOR UPDATE SKIP LOCKED`, priority
///   order), in autocommit mode — no transaction is held while handlers run. The runner is woken by NOTIFY
///   (``JobRunnerConfiguration/listen``), by a timer armed for the next scheduled job, when capacity frees after a
///   claim that filled its limit (under a backlog, once half an idle runner's claim is free or 20 ms after the last
///   claim: fewer, larger claims), and by polling every ``JobRunnerConfiguration/pollInterval``.
/// - **Running**: each attempt is one child task of the runner; its task is cancelled at its kind's timeout or when
///   the job is cancelled or lost. Kinds with a concurrency limit are claimed only while below it.
/// - **Completing**: finished attempts are written in batches, each guarded by this worker's lease on that attempt.
/// - **Leases**: a heartbeat renews the leases of this runner's attempts every
///   ``JobRunnerConfiguration/heartbeatInterval``; a ``JobRescuer`` anywhere takes back jobs whose lease lapsed.
/// - **Database outages**: every failure is logged, reported to ``JobQueueObserver/databaseFailed(_:)`` and
///   retried with backoff capped at ``JobRunnerConfiguration/maxDatabaseBackoff``; the runner never crashes on them.
/// - **Graceful shutdown**: claiming stops; running jobs get ``JobRunnerConfiguration/shutdownTimeout`` to finish;
///   the rest are cancelled and released to `available` without spending their attempt (up to
///   ``JobRunnerConfiguration/maxReleases`` times per job, then the stop spends it); completions are written;
///   then `run()` returns. If the task is cancelled outright instead, handlers are cancelled and nothing more is
///   written: those jobs are rescued after their lease lapses (the attempt then counts).
///
/// A handler that ignores task cancellation keeps its slot (and delays shutdown) until it returns.
///
/// - **Admission**: kinds registered with `usesDatabase` (the default) borrow pooled connections, so only
///   ``JobRunnerConfiguration/databaseConcurrency`` of their jobs (by default the pool's size) run at once, and a
///   claim takes no more of them than that allows (``ClaimCapacity``); kinds that need no connection run up to
///   ``JobRunnerConfiguration/concurrency``.
///
/// Connections: the runner's own statements (claims, promotions, completions, heartbeats) use a pool of its own of
/// up to three connections (same configuration as `database`'s pool), so they never wait behind handlers' Units of
/// Work; `database`'s pool serves the handlers. Plus one direct connection for LISTEN. Run each runner once.
public struct JobRunner: Service {
    private let core: JobRunnerCore

    /// - Parameters:
    ///   - observer: receives the runner's events: claims, attempts, poll progress and database errors.
    public init(
        configuration: JobRunnerConfiguration = JobRunnerConfiguration(),
        registry: JobRegistry,
        database: Database,
        observer: any JobQueueObserver = NoopJobQueueObserver(),
        logger: Logger
    ) {
        core = JobRunnerCore(
            configuration: configuration,
            registry: registry,
            database: database,
            observer: observer,
            logger: logger
        )
    }

    public var configuration: JobRunnerConfiguration { core.configuration }

    /// The id this runner writes into `locked_by`.
    public var workerID: String { core.configuration.workerID }

    /// Runs until graceful shutdown (or ``triggerGracefulShutdown()``) has drained the runner, or until cancelled.
    /// With ``JobRunnerConfiguration/exitWhenIdle``, it also returns once the queue is idle: a claim found nothing,
    /// no job runs here, every completion is written, and no scheduled job is due (later ones do not keep it alive).
    public func run() async throws {
        await withGracefulShutdownHandler {
            await core.run()
        } onGracefulShutdown: { [core] in
            core.requestShutdown()
        }
    }

    /// Starts the same graceful shutdown as the service group's, for callers that run the runner themselves.
    public func triggerGracefulShutdown() {
        core.requestShutdown()
    }
}
