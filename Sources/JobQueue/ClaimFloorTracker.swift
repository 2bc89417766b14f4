/// The runner's claim floor (``ClaimFloor``) through claims, notifications and probes, as a value (no I/O, no clock of
/// its own): which floor the next claim starts at, when the next probe for ready rows below the floor is due, and
/// what a notification or a probe result heard while a claim was in flight does to the floor that claim sets.
///
/// ## The probe
/// Rows made ready below the floor at a key nothing reports are found by a probe: one read of the smallest ready
/// `(priority, run_at)` below the floor (``JobSQL/probeBelowFloor``), run on a connection of its own beside the
/// claims; what it finds lowers the floor. It walks every dead index entry below the floor, which a held snapshot
/// keeps by the million (seconds at 19,000 jobs/s after minutes), so it is off the dispatch loop: claims at the floor
/// go on meanwhile. Before it existed, a claim from the front did this job on the dispatch loop, and every one under a
/// held snapshot stopped all claiming for its duration (0.6–1.6 s at 19,000 jobs/s after 1–2 minutes of a hold: slow
/// windows of the held run).
///
/// A probe runs when requested (``requestProbe()``; one at a time, a request heard during a probe runs another after
/// it), and otherwise every ``probeInterval(after:)``.
struct ClaimFloorTracker: Sendable {
    /// Where the next claim starts (nil: from the front).
    private(set) var floor: ClaimFloor?
    /// When the last probe, or claim from the front, was sent.
    private(set) var lastProbe: ContinuousClock.Instant?
    /// How long it took (it walks every dead entry a held snapshot keeps).
    private(set) var lastProbeDuration: Duration = .zero
    /// Rows may be ready below the floor at a key nobody reported: probe as soon as none is in flight.
    private(set) var probeRequested = false
    /// A claim was sent and has not returned.
    private var claimInFlight: (full: Bool, sent: ContinuousClock.Instant)?
    /// What was heard during the claim in flight about ready rows (judged against the floor it sets).
    private var heardInFlight: [JobNotification] = []
    /// A probe was sent (below this floor) and has not returned.
    private var probeInFlight: (floor: ClaimFloor, sent: ContinuousClock.Instant)?

    /// The shortest time between two probes (while listening) that nothing requested.
    static let probeInterval = Duration.seconds(5)
    /// Unrequested probes run at most this share of the time: one that walked a held snapshot's dead entries for
    /// 100 ms comes again after 5 s at the earliest, one that took 1 s after 50 s.
    static let probeShare = 50
    /// The longest time between two unrequested probes (while listening), however long the last one took.
    static let probeIntervalCap = Duration.seconds(300)

    /// The time between two unrequested probes after one that took `duration`.
    static func probeInterval(after duration: Duration) -> Duration {
        min(max(probeInterval, duration * probeShare), probeIntervalCap)
    }

    // MARK: - Claims

    /// The floor of a claim of `kinds` sent at `now` (nil: from the front, when no floor is known for `kinds`), and
    /// records it as sent. A claim from the front finds every ready row, so it also counts as a probe.
    mutating func claimSent(kinds: [String], at now: ContinuousClock.Instant) -> ClaimFloor? {
        let floor = floor.flatMap { $0.applies(to: kinds) ? $0 : nil }
        if floor == nil {
            lastProbe = now
            probeRequested = false
        }
        claimInFlight = (floor == nil, now)
        heardInFlight = []
        return floor
    }

    /// A claim of `kinds` returned `jobs` at `now`: the floor moves to them, lowered by what was heard meanwhile (a
    /// request for a probe heard then is made again: a probe sent before the claim returned looked below the old
    /// floor only).
    mutating func claimReturned(_ jobs: [ClaimedJob], kinds: [String], at now: ContinuousClock.Instant) {
        if let claimInFlight, claimInFlight.full { lastProbeDuration = now - claimInFlight.sent }
        let heard = heardInFlight
        claimInFlight = nil
        heardInFlight = []
        guard var next = ClaimFloor.after(claiming: jobs, kinds: kinds) else { return }
        for notification in heard {
            switch next.bound(of: notification) {
            case .above: break
            case .below(let key): next = next.lowered(to: key)
            case .unknown: probeRequested = true
            }
        }
        floor = next
    }

    /// A claim failed (it may have committed with its answer lost): the floor stays, and a probe runs.
    mutating func claimFailed() {
        claimInFlight = nil
        heardInFlight = []
        probeRequested = true
    }

    // MARK: - What is heard

    /// Rows may be ready below the floor at a key nobody reported (released, rescued, a reconnected listener): a
    /// probe runs as soon as none is in flight.
    mutating func requestProbe() {
        notified(JobNotification(requeued: true))
    }

    /// Ready rows at `key` or later (own promotions, a probe's result): the floor is lowered to `key`, and so is the
    /// one the claim in flight sets. Returns whether the current floor was lowered.
    @discardableResult
    mutating func ready(at key: ClaimFloor.Key) -> Bool {
        let before = floor
        notified(JobNotification(priority: key.priority, runAt: key.runAt))
        return floor != before
    }

    /// A notification of ready jobs in this runner's queue: lowers the floor to where its rows start, or requests a
    /// probe (``ClaimFloor/bound(of:)``); the floor the claim in flight sets is judged against it when it returns.
    mutating func notified(_ notification: JobNotification) {
        if claimInFlight != nil { heardInFlight.append(notification) }
        guard let floor else { return }
        switch floor.bound(of: notification) {
        case .above: break
        case .below(let key): self.floor = floor.lowered(to: key)
        case .unknown: probeRequested = true
        }
    }

    // MARK: - Probes

    /// When the next probe is due (nil: none while no floor is known or one is in flight; a claim from the front
    /// does its job).
    func nextProbe() -> ContinuousClock.Instant? {
        guard floor != nil, probeInFlight == nil, let lastProbe else { return nil }
        if probeRequested { return lastProbe }
        return lastProbe + Self.probeInterval(after: lastProbeDuration)
    }

    /// The floor to probe below at `now`, recorded as sent (nil: no probe is due).
    mutating func probeSent(at now: ContinuousClock.Instant) -> ClaimFloor? {
        guard let due = nextProbe(), due <= now, let floor else { return nil }
        probeRequested = false
        lastProbe = now
        probeInFlight = (floor, now)
        return floor
    }

    /// The probe returned at `now` the smallest ready key below its floor (nil: none). Returns whether the floor was
    /// lowered (the runner then claims).
    mutating func probeReturned(_ key: ClaimFloor.Key?, at now: ContinuousClock.Instant) -> Bool {
        guard let probe = probeInFlight else { return false }
        probeInFlight = nil
        lastProbeDuration = now - probe.sent
        guard let key, floor?.kinds == probe.floor.kinds else { return false }
        return ready(at: key)
    }

    /// The probe failed: another runs when the next is due (requested again).
    mutating func probeFailed(at now: ContinuousClock.Instant) {
        guard let probe = probeInFlight else { return }
        probeInFlight = nil
        lastProbeDuration = now - probe.sent
        probeRequested = true
    }
}
