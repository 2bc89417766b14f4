import PostgresClient

/// Exponential backoff with jitter between failed attempts: `min(base × 2^(attempt−1), cap)`, then ± `jitter`.
///
/// With the defaults (1 s, cap 10 min, ±20 %) the waits are about 1, 2, 4, … 512 s, then 10 min; 20 attempts span
/// about 2 h 20 min.
public struct RetryPolicy: Sendable, Equatable {
    /// The wait after the first failed attempt.
    public var base: Duration
    /// The longest wait.
    public var cap: Duration
    /// Relative jitter, 0...1: a wait `w` becomes uniform in `w × (1 − jitter) ... w × (1 + jitter)` (never above
    /// `cap × (1 + jitter)`), so jobs that failed together do not retry together.
    public var jitter: Double

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(600), jitter: Double = 0.2) {
        self.base = base
        self.cap = max(cap, base)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The wait after failed attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }

    /// The wait after failed attempt number `attempt` (1-based), with the jitter drawn from `generator` (none is
    /// drawn when `jitter` is 0).
    package func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(attempt - 1, 0), 62)
        let raw = base.seconds * Double(sign: .plus, exponent: exponent, significand: 1)
        let capped = min(raw, cap.seconds)
        let factor = jitter == 0 ? 1 : Double.random(in: (1 - jitter)...(1 + jitter), using: &generator)
        return .milliseconds(Int64((capped * factor * 1000).rounded()))
    }
}
