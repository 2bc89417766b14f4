public import Foundation

/// What a handler reports about its attempt.
///
/// Throwing from a handler means "failed, retry with backoff" (dead once attempts run out), like ``retry(after:reason:)``
/// without a delay; throw ``JobError/permanent(_:)`` or return ``fail(_:)`` for a failure that retrying cannot fix.
public enum JobResult: Sendable, Equatable {
    /// Done: the job becomes `succeeded`.
    case success
    /// Failed, try again: after `after` (nil: the kind's backoff), keeping `reason` as `last_error`. The attempt is
    /// spent; when it was the last one, the job becomes `dead`.
    case retry(after: Duration? = nil, reason: String? = nil)
    /// Failed for good: the job becomes `dead` with this message, whatever attempts remain.
    case fail(String)
    /// Not now: run again after this long without spending the attempt.
    case snooze(Duration)
    /// Stop: the job becomes `cancelled`, with this reason as `last_error`.
    case cancel(String)

    /// Not now: run again at `date` without spending the attempt.
    public static func snooze(until date: Date) -> JobResult {
        .snooze(.milliseconds(max(0, Int64((date.timeIntervalSinceNow * 1000).rounded(.up)))))
    }
}
