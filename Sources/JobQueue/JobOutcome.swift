/// How an attempt ended, as a bounded metric label value.
public enum JobOutcome: String, Sendable, CaseIterable {
    case succeeded
    /// Failed, with attempts left: scheduled again after its backoff.
    case retried
    /// Failed for good, out of attempts, or not runnable (undecodable payload).
    case dead
    /// Cancelled by its handler or by an operator while running.
    case cancelled
    /// Snoozed by its handler (runs again later without spending the attempt).
    case snoozed
}
