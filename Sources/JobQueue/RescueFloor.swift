/// Where the rescuer's scan of `jobs_lease_idx` (`lease_expires_at` over `running` rows) starts, as a value (no I/O,
/// no clock of its own).
///
/// ## Why
/// Every finished attempt leaves a dead entry in the lease index with the lease it had; while a snapshot is held,
/// VACUUM removes none, so a scan for `lease_expires_at < now()` from the front visits the heap for every job that
/// ran since the snapshot was taken (several seconds per scan at thousands of jobs a second after a few minutes).
///
/// ## Rule
/// After a pass that took back every lapsed lease it found (its last batch came back short) at database time `T`,
/// the next pass scans `lease_expires_at >= T - slack` only: a running row with an older lease was lapsed at `T`
/// already and would have been taken, unless the statement that set its lease (a claim or a heartbeat:
/// `now() + lease`) started more than ``slack`` plus a lease before `T` and committed after it, or the row was locked
/// at that moment. For those, a pass from the front runs every ``fullScanInterval(after:)`` (spaced out by its cost
/// like the claim's, see ``ClaimFloorTracker``).
struct RescueFloor: Sendable {
    /// Database time (epoch seconds) the next pass starts at (nil: from the front).
    private(set) var floor: Double?
    /// When the last pass from the front started.
    private(set) var lastFullScan: ContinuousClock.Instant?
    /// How long it took.
    private(set) var lastFullScanDuration: Duration = .zero

    /// How far below the last complete pass's time the next one starts (seconds).
    static let slack = 10.0
    /// The shortest time between two passes from the front.
    static let fullScanInterval = Duration.seconds(60)
    /// A pass from the front runs at most this share (1/n) of the time.
    static let fullScanShare = 50
    /// The longest time between two passes from the front.
    static let fullScanIntervalCap = Duration.seconds(600)

    static func fullScanInterval(after duration: Duration) -> Duration {
        min(max(fullScanInterval, duration * fullScanShare), fullScanIntervalCap)
    }

    /// The floor of a pass starting at `now` (nil: from the front), recorded as started.
    mutating func passStarting(at now: ContinuousClock.Instant) -> Double? {
        let due = lastFullScan.map { now - $0 >= Self.fullScanInterval(after: lastFullScanDuration) } ?? true
        if due {
            lastFullScan = now
            return nil
        }
        return floor
    }

    /// A pass that started at `started` (from `floor`, nil: the front) ended complete at `now`, its last statement at
    /// database time `scannedAt`.
    mutating func passEnded(
        from floor: Double?, started: ContinuousClock.Instant, at now: ContinuousClock.Instant, scannedAt: Double
    ) {
        if floor == nil { lastFullScanDuration = now - started }
        self.floor = scannedAt - Self.slack
    }
}
