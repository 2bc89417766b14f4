public import Foundation
public import JobQueue
public import Monitoring
public import Persistence
import Synchronization

/// Maps the job queue's events to the process's ``HealthState``: poll progress and database failures.
///
/// Records poll progress as the worker check of `health`; with `databaseCheck`, also marks that check passing after
/// each successful poll and failing (with the error's description) on each database error. A passing database
/// result is written at most once per second (polls can succeed hundreds of times a second); a failure is written at
/// once, every time. Every other event is ignored.
public final class JobQueueHealthObserver: JobQueueObserver {
    private let health: HealthState
    private let databaseCheck: String?
    private let lastPassing = Mutex<ContinuousClock.Instant?>(nil)

    public init(health: HealthState, databaseCheck: String? = "database") {
        self.health = health
        self.databaseCheck = databaseCheck
    }

    public func pollSucceeded(at date: Date) {
        health.recordProgress()
        guard let databaseCheck else { return }
        let now = ContinuousClock.now
        let due = lastPassing.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        if due { health.update(check: databaseCheck, ok: true, detail: "job queue poll succeeded", at: now) }
    }

    public func databaseFailed(_ error: RepositoryError) {
        guard let databaseCheck else { return }
        lastPassing.withLock { $0 = nil }
        health.update(check: databaseCheck, ok: false, detail: error.description)
    }
}
