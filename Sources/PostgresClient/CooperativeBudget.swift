import Foundation

/// Keeps a task whose statements finish without suspending from holding a thread of Swift's cooperative pool.
///
/// A statement whose answer is already there when it is sent completes without suspending the task (see
/// ``PostgresConnection``), so a loop of such statements would never give its thread back: other tasks on the two
/// threads of a 2-core machine would starve. Like Tokio's cooperative budget, each thread gets a time slice: when a
/// statement completes without suspending and the thread has not been released (by a suspension or a yield here)
/// for ``slice``, the task yields once. The slice is Go's preemption interval, 10 ms: a yield on the cooperative pool
/// can cost a thread wake-up, and 1 ms slices cost 4 tasks' round trips about 12% on 2 cores.
///
/// The time is kept per thread in a thread-specific slot (nanoseconds on the monotonic clock), never shared.
enum CooperativeBudget {
    /// How long a thread may run statements that complete without suspending before the task yields.
    static let slice: UInt64 = 10_000_000

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Call when a statement completed without suspending: yields when this thread's slice is used up.
    static nonisolated(nonsending) func spend() async {
        let now = monotonicNanoseconds()
        guard let last = lastRelease else {
            lastRelease = now
            return
        }
        if isExhausted(since: last, now: now) {
            lastRelease = now
            await Task.yield()
        }
    }

    /// Call before a statement suspends: the thread is free for other tasks from here.
    static func release() {
        lastRelease = monotonicNanoseconds()
    }

    /// Whether a thread released at `last` has used up its slice at `now` (the rule ``spend()`` applies).
    static func isExhausted(since last: UInt64, now: UInt64) -> Bool {
        now &- last >= slice
    }

    private static var lastRelease: UInt64? {
        get { pthread_getspecific(key).map { UInt64(UInt(bitPattern: $0)) } }
        set { pthread_setspecific(key, newValue.flatMap { UnsafeRawPointer(bitPattern: UInt($0)) }) }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
