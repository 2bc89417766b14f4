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
    }

    /// The task running the handler. `@unchecked Sendable`: it is stored and used only under the lock, and
    /// ``run(_:)`` removes it (under the lock) before the handler's task can end, so a task read here is alive.
    private struct HandlerTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct State: ~Copyable {
        var reason: AbortReason?
        var handler: HandlerTask?
    }

    private let state = Mutex(State())

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
