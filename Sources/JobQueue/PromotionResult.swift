/// What one promotion of due scheduled jobs did.
public struct PromotionResult: Sendable, Equatable {
    /// Jobs moved from `scheduled` to `available`.
    public var promoted: Int
    /// How long until the next scheduled job is due (by the database clock); nil when none is scheduled.
    public var nextDue: Duration?

    public init(promoted: Int, nextDue: Duration?) {
        self.promoted = promoted
        self.nextDue = nextDue
    }
}
