import Logging
import Persistence
import Synchronization

/// Writes finished attempts in batches: one `UPDATE … FROM unnest(…)` per flush.
///
/// A flush happens when ``JobRunnerConfiguration/completionBatchSize`` attempts are pending, or when the first
/// pending attempt has waited ``JobRunnerConfiguration/completionFlushInterval``; attempts that finish while a flush
/// runs go into the next one. A failed flush keeps its attempts and is retried with backoff (their leases stay
/// renewed by the heartbeat meanwhile). After ``close()``, ``run()`` flushes what is left and returns; if the
/// database stays unreachable for the shutdown timeout, the rest is dropped with an error log (the leases then
/// lapse and the rescuer re-runs those jobs).
final class JobCompleter: Sendable {
    private struct State {
        var pending: [JobCompletion] = []
        var flushing: [JobCompletion] = []
        var closed = false
    }

    private let database: Database
    private let configuration: JobRunnerConfiguration
    private let observer: any JobQueueObserver
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeup = Wakeup()
    /// The most attempts one statement carries.
    private let maxStatementSize = 1000

    init(
        database: Database,
        configuration: JobRunnerConfiguration,
        observer: any JobQueueObserver,
        logger: Logger
    ) {
        self.database = database
        self.configuration = configuration
        self.observer = observer
        self.logger = logger
    }

    /// Queues one finished attempt.
    func add(_ completion: JobCompletion) {
        let count = state.withLock { state -> Int in
            state.pending.append(completion)
            return state.pending.count
        }
        if count == 1 || count >= configuration.completionBatchSize { wakeup.signal() }
    }

    /// Attempts not yet written: their rows are still `running` under this worker, so the heartbeat keeps them.
    var unwrittenAttempts: [(id: Int64, attempt: Int)] {
        state.withLock { state in (state.pending + state.flushing).map { ($0.id, $0.attempt) } }
    }

    /// True when no attempt waits to be written and no flush is in progress (a flush's attempts count until its
    /// statement committed).
    var isIdle: Bool {
        state.withLock { $0.pending.isEmpty && $0.flushing.isEmpty }
    }

    /// Ends ``run()`` once everything queued is written.
    func close() {
        state.withLock { $0.closed = true }
        wakeup.signal()
    }

    /// The flush loop; returns after ``close()`` when everything is written, or when the task is cancelled.
    ///
    /// - Parameters:
    ///   - onScheduled: called after a flush with the shortest delay of its retries and snoozes, to arm the
    ///     runner's timer for them.
    ///   - onIdle: called after a flush that left nothing pending (the runner's `exitWhenIdle` check).
    func run(onScheduled: (Duration) -> Void, onIdle: () -> Void = {}) async {
        var failures = 0
        var closedAt: ContinuousClock.Instant?
        while !Task.isCancelled {
            let (count, closed) = state.withLock { ($0.pending.count, $0.closed) }
            if closed, closedAt == nil { closedAt = .now }
            if count == 0 {
                if closed { return }
                await wakeup.wait(until: nil)
                continue
            }
            if count < configuration.completionBatchSize, !closed, failures == 0 {
                await wakeup.wait(until: .now + configuration.completionFlushInterval)
            }
            let batch = state.withLock { state -> [JobCompletion] in
                let batch = Array(state.pending.prefix(maxStatementSize))
                state.pending.removeFirst(batch.count)
                state.flushing = batch
                return batch
            }
            switch await database.withJobs({ await $0.complete(batch, workerID: configuration.workerID) }) {
            case .success(let updated):
                let idle = state.withLock { state -> Bool in
                    state.flushing = []
                    return state.pending.isEmpty
                }
                logger.trace("wrote job completions", metadata: ["job.batch": "\(batch.count)"])
                if failures > 0 {
                    logger.info("job completions are written again", metadata: ["job.batch": "\(batch.count)"])
                }
                failures = 0
                if updated.count < batch.count {
                    logger.notice(
                        "some completions were discarded: those attempts were rescued or cancelled meanwhile",
                        metadata: ["job.discarded": "\(batch.count - updated.count)"]
                    )
                }
                let delays = batch.compactMap { $0.outcome == .retry || $0.outcome == .snooze ? $0.delay : nil }
                if let shortest = delays.min() { onScheduled(shortest) }
                if idle { onIdle() }
            case .failure(let error):
                state.withLock { state in
                    state.pending = state.flushing + state.pending
                    state.flushing = []
                }
                failures += 1
                observer.databaseFailed(error)
                if failures == 1 {
                    logger.error(
                        "cannot write job completions; retrying",
                        metadata: ["error": "\(error)", "job.batch": "\(batch.count)"]
                    )
                }
                if let closedAt, ContinuousClock.now - closedAt > configuration.shutdownTimeout {
                    let dropped = state.withLock { state -> Int in
                        defer { state.pending = [] }
                        return state.pending.count
                    }
                    logger.error(
                        "giving up on job completions at shutdown; their leases will lapse and the jobs re-run",
                        metadata: ["job.dropped": "\(dropped)", "error": "\(error)"]
                    )
                    return
                }
                let backoff = JobRunnerCore.backoff(failures: failures, configuration: configuration)
                do { try await Task.sleep(for: backoff) } catch { return }
            }
        }
    }
}
