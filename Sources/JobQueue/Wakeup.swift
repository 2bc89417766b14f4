import Synchronization

/// A wake-up signal for one waiting task: ``signal()`` from any thread or task; ``wait(until:)`` returns once a
/// signal arrived (during the wait or since the previous one) or at the deadline.
///
/// Signals do not count: many signals before a wait wake it once. A spurious early return is possible (a timer or
/// cancellation racing a signal), so waiters re-check their condition in a loop. Only one task may wait at a time.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next wait if none waits now.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when signalled, at `deadline` (nil: no deadline), or when the task is cancelled.
    ///
    /// With a deadline, a child task sleeps until it and signals; it is cancelled as soon as the wait ends. Nothing
    /// outlives the call. Without a deadline, no task is created.
    func wait(until deadline: ContinuousClock.Instant?) async {
        if consumeSignal() { return }
        guard let deadline else {
            await waitForSignal()
            return
        }
        if deadline <= .now { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                do {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    signal()
                } catch {
                    // Cancelled: the wait already ended.
                }
            }
            await waitForSignal()
            group.cancelAll()
        }
    }

    /// Suspends until a signal (or the task's cancellation, which signals).
    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.signalled {
                        state.signalled = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }

    private func consumeSignal() -> Bool {
        state.withLock { state in
            defer { state.signalled = false }
            return state.signalled
        }
    }
}
