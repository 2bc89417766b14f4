/// The runner's claim floor (``ClaimFloor``) through claims and notifications, as a value (no I/O, no clock of its
/// own): which floor the next claim starts at, when a claim from the front is due, and what a notification heard
/// while a claim was in flight does to the floor that claim sets.
struct ClaimFloorTracker: Sendable {
    /// Where the next claim starts (nil: from the front).
    private(set) var floor: ClaimFloor?
    /// When the last claim without a floor was sent.
    private(set) var lastFullClaim: ContinuousClock.Instant?
    /// How long the last claim without a floor took (it walks every dead entry a held snapshot keeps).
    private(set) var lastFullClaimDuration: Duration = .zero
    /// A claim was sent and has not returned.
    private var inFlight: (full: Bool, sent: ContinuousClock.Instant)?
    /// A notification heard during the claim in flight said rows may sort below the floor it will set.
    private var undercutInFlight: [JobNotification] = []

    /// The shortest time between two claims without a floor (while listening).
    static let fullClaimInterval = Duration.seconds(5)
    /// A claim without a floor runs at most this share of the time: one that walked a held snapshot's dead entries
    /// for 100 ms comes again after 5 s at the earliest, one that took 1 s after 50 s.
    static let fullClaimShare = 50
    /// The longest time between two claims without a floor (while listening), however long the last one took.
    static let fullClaimIntervalCap = Duration.seconds(300)

    /// The time between two claims without a floor after one that took `duration`.
    static func fullClaimInterval(after duration: Duration) -> Duration {
        min(max(fullClaimInterval, duration * fullClaimShare), fullClaimIntervalCap)
    }

    /// The floor of a claim of `kinds` sent at `now` (nil: from the front), and records it as sent. `fullClaim`
    /// forces a claim from the front (a poll without LISTEN); otherwise one runs when
    /// ``fullClaimInterval(after:)`` has passed since the last.
    mutating func claimSent(kinds: [String], at now: ContinuousClock.Instant, fullClaim: Bool) -> ClaimFloor? {
        let due =
            fullClaim
            || lastFullClaim.map { now - $0 >= Self.fullClaimInterval(after: lastFullClaimDuration) } ?? true
        var floor = floor.flatMap { $0.applies(to: kinds) ? $0 : nil }
        if due { floor = nil }
        if floor == nil { lastFullClaim = now }
        inFlight = (floor == nil, now)
        undercutInFlight = []
        return floor
    }

    /// A claim of `kinds` returned `jobs` at `now`: the floor moves to them unless a notification heard meanwhile
    /// undercuts it (then the next claim scans from the front).
    mutating func claimReturned(_ jobs: [ClaimedJob], kinds: [String], at now: ContinuousClock.Instant) {
        if let inFlight, inFlight.full { lastFullClaimDuration = now - inFlight.sent }
        let heard = undercutInFlight
        inFlight = nil
        undercutInFlight = []
        guard let next = ClaimFloor.after(claiming: jobs, kinds: kinds) else { return }
        if heard.contains(where: { next.isUndercut(by: $0) }) {
            floor = nil
        } else {
            floor = next
        }
    }

    /// A claim failed: the next one scans from the front.
    mutating func claimFailed() {
        inFlight = nil
        undercutInFlight = []
        floor = nil
    }

    /// Rows may be ready below any floor (promoted, released, a reconnected listener): the next claim scans from the
    /// front, and so does the one after a claim in flight.
    mutating func drop() {
        floor = nil
        if inFlight != nil { undercutInFlight.append(JobNotification(requeued: true)) }
    }

    /// A notification of ready jobs in this runner's queue.
    mutating func notified(_ notification: JobNotification) {
        if let floor, floor.isUndercut(by: notification) { self.floor = nil }
        if inFlight != nil { undercutInFlight.append(notification) }
    }
}
