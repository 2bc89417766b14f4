import Synchronization

/// The runner's handle on one running attempt: lets the timeout watcher, the heartbeat or a cancel notification stop
/// its handler.
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

    /// Wakes the attempt's watchdog.
    let wakeup = Wakeup()
    private let reason = Mutex<AbortReason?>(nil)

    /// Stops the attempt: its watchdog cancels the handler's task. The first reason wins.
    func abort(_ reason: AbortReason) {
        self.reason.withLock { current in
            if current == nil { current = reason }
        }
        wakeup.signal()
    }

    var abortReason: AbortReason? { reason.withLock { $0 } }
}
