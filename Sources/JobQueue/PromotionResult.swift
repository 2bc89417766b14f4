/// What one promotion of due scheduled jobs did.
public struct PromotionResult: Sendable, Equatable {
    /// Jobs moved from `scheduled` to `available`.
    public var promoted: Int
    /// How long until the next scheduled job is due (by the database clock); nil when none is scheduled.
    public var nextDue: Duration?
    /// Where the jobs it made ready in the queue asked for start in the claim order (smallest priority and smallest
    /// `run_at`, taken apart, so the key sorts at or below each of them); nil when it promoted none there.
    var earliest: ClaimFloor.Key?

    public init(promoted: Int, nextDue: Duration?) {
        self.init(promoted: promoted, nextDue: nextDue, earliest: nil)
    }

    init(promoted: Int, nextDue: Duration?, earliest: ClaimFloor.Key?) {
        self.promoted = promoted
        self.nextDue = nextDue
        self.earliest = earliest
    }
}
