import Synchronization

/// The runner's handle on one running attempt: lets the timeout watcher, the heartbeat or a cancel notification stop
/// its handler.
///
/// The handler runs in the attempt's own task (no watchdog task, no task group: an attempt costs one task).
/// ``run(_:)`` registers that task while the handler runs; ``abort(_:)`` records the reason and cancels the task.
final class JobControl: Sendable {
    /// Why an attempt was stopped from outside.
    enum AbortReason: Sendable, Equatable {
        /// An operator cancelled the job (the row is already `cancelled`).
        case cancelled
        /// This worker no longer holds the job (rescued after a lapsed lease, or cancelled without a notification).
        case lost
        /// The attempt ran past its kind's timeout.
        case timedOut
        /// This worker could not renew the lease for long enough that it might lapse: the handler is stopped before
        /// another worker can take the job over (self-fencing).
        case fenced
    }

    /// The task running the handler. `@unchecked Sendable`: it is stored and used only under the lock, and
    /// ``run(_:)`` removes it (under the lock) before the handler's task can end, so a task read here is alive.
    private struct HandlerTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct State: ~Copyable {
        var reason: AbortReason?
        var handler: HandlerTask?
        /// When the statement that last set the lease was sent (the claim, then each renewal that kept it).
        var leaseSetAt: ContinuousClock.Instant
    }

    private let state: Mutex<State>
    /// How long after ``State/leaseSetAt`` the lease counts as no longer sure (the lease less one heartbeat
    /// interval: the handler gets that interval to stop before another worker may take over).
    let fenceAfter: Duration

    /// - Parameters:
    ///   - leaseSetAt: when the claim that leased the job was sent.
    ///   - fenceAfter: see ``fenceAfter``.
    init(leaseSetAt: ContinuousClock.Instant = .now, fenceAfter: Duration = .seconds(86_400 * 365)) {
        state = Mutex(State(leaseSetAt: leaseSetAt))
        self.fenceAfter = fenceAfter
    }

    /// A renewal sent at `sentAt` kept the lease.
    func leaseRenewed(sentAt: ContinuousClock.Instant) {
        state.withLock { $0.leaseSetAt = max($0.leaseSetAt, sentAt) }
    }

    /// When the handler must have been stopped unless the lease is renewed before.
    var fenceDeadline: ContinuousClock.Instant { state.withLock { $0.leaseSetAt } + fenceAfter }

    /// Whether the lease is still sure at `now` and the attempt was not aborted.
    func holdsLease(at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { $0.reason == nil && now < $0.leaseSetAt + fenceAfter }
    }

    /// Runs `body` (the handler) in the calling task; an abort before or during it cancels this task.
    func run<T>(_ body: () async -> T) async -> T {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            let handler = HandlerTask(task: task)
            state.withLock { state in
                state.handler = handler
                if state.reason != nil { handler.task.cancel() }
            }
        }
        let value = await body()
        state.withLock { $0.handler = nil }
        return value
    }

    /// Stops the attempt: cancels the handler's task (under the lock, so the task cannot end meanwhile). The first
    /// reason wins.
    func abort(_ reason: AbortReason) {
        state.withLock { state in
            if state.reason == nil { state.reason = reason }
            state.handler?.task.cancel()
        }
    }

    var abortReason: AbortReason? { state.withLock { $0.reason } }
}
