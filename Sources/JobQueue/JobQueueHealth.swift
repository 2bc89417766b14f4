import Monitoring
import Persistence
import Synchronization

/// How the job queue's services report their health: progress of the runner's polls and database failures.
///
/// Both closures run on hot paths: they must be cheap and non-blocking. ``reporting(to:databaseCheck:)`` maps them
/// to the process's ``HealthState``.
public struct JobQueueHealth: Sendable {
    /// A runner finished a claim round (idle or not).
    public var onPollSucceeded: @Sendable () -> Void
    /// A job-queue statement failed with a database error (the service logs it and retries).
    public var onDatabaseError: @Sendable (RepositoryError) -> Void

    public init(
        onPollSucceeded: @escaping @Sendable () -> Void = {},
        onDatabaseError: @escaping @Sendable (RepositoryError) -> Void = { _ in }
    ) {
        self.onPollSucceeded = onPollSucceeded
        self.onDatabaseError = onDatabaseError
    }

    /// Reports nothing.
    public static var none: JobQueueHealth { JobQueueHealth() }

    /// Records poll progress as the worker check of `health`; with `databaseCheck`, also marks that check passing
    /// after each successful poll and failing (with the error's description) on each database error.
    ///
    /// A passing database result is written at most once per second (polls can succeed hundreds of times a second);
    /// a failure is written at once, every time.
    public static func reporting(to health: HealthState, databaseCheck: String? = "database") -> JobQueueHealth {
        let lastPassing = Mutex<ContinuousClock.Instant?>(nil)
        return JobQueueHealth(
            onPollSucceeded: {
                health.recordProgress()
                guard let databaseCheck else { return }
                let now = ContinuousClock.now
                let due = lastPassing.withLock { last -> Bool in
                    guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
                    last = now
                    return true
                }
                if due { health.update(check: databaseCheck, ok: true, detail: "job queue poll succeeded", at: now) }
            },
            onDatabaseError: { error in
                guard let databaseCheck else { return }
                lastPassing.withLock { $0 = nil }
                health.update(check: databaseCheck, ok: false, detail: error.description)
            }
        )
    }
}
