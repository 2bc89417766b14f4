/// The recorded end of one attempt, written by the runner's batched completer.
public struct JobCompletion: Sendable, Equatable {
    /// What happens to the row.
    public enum Outcome: String, Sendable, CaseIterable {
        /// `succeeded`.
        case succeeded
        /// `dead`: no further attempts.
        case dead
        /// `cancelled`.
        case cancelled
        /// Back to `scheduled` (or `available` without delay) for another attempt; the attempt stays spent.
        case retry
        /// Back to `scheduled` for later; the attempt is given back.
        case snooze
        /// Back to `available` without spending the attempt, counted in `releases` (the handler was stopped at
        /// shutdown).
        case release
        /// Back to `available` without spending the attempt, not counted: no handler ran (claimed beyond its kind's
        /// concurrency limit).
        case unclaim
    }

    public var id: Int64
    /// The attempt that ended (the completion applies only while this worker still holds exactly this attempt).
    public var attempt: Int
    public var outcome: Outcome
    /// For `retry` and `snooze`: how long until the next attempt, by the database clock.
    public var delay: Duration?
    /// The failure to keep in `last_error` (nil keeps the previous one), sanitised and truncated for storage (see
    /// ``JobErrorText``).
    public let error: String?

    public init(id: Int64, attempt: Int, outcome: Outcome, delay: Duration? = nil, error: String? = nil) {
        self.id = id
        self.attempt = attempt
        self.outcome = outcome
        self.delay = delay
        self.error = error.map(JobErrorText.sanitize)
    }
}
