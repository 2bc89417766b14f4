import JobQueue
import Testing

/// The claim rules (``ClaimPlan``) as tables; no database, no clock (instants are offsets from one origin).
@Suite("Claim plan")
struct ClaimPlanTests {
    static let origin = ContinuousClock.now

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var requested = true
        var pollDue = false
        var concurrency = 4
        var running = 0
        var runningByKind: [String: Int] = [:]
        var kinds: [(kind: String, limit: Int?)] = [(kind: "noop", limit: nil)]
        var backlog = false
        /// Time since the last claim.
        var sinceLastClaim = Duration.seconds(1)
        /// nil: no claim now.
        var expected: ClaimPlan?

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing requested, no poll due: no claim", requested: false, expected: nil),
        Case(name: "requested, all free: every slot", expected: ClaimPlan(limit: 4, kinds: ["noop"])),
        Case(
            name: "poll due without a request: claims", requested: false, pollDue: true, running: 1,
            expected: ClaimPlan(limit: 3, kinds: ["noop"])),
        Case(name: "no free slot: no claim even when the poll is due", pollDue: true, running: 4, expected: nil),
        Case(name: "more running than the limit: no claim", pollDue: true, running: 5, expected: nil),
        Case(
            name: "no backlog: one free slot claims at once", running: 3, sinceLastClaim: .zero,
            expected: ClaimPlan(limit: 1, kinds: ["noop"])),
        Case(
            name: "backlog: one of four free, 5 ms after the last claim: waits", running: 3, backlog: true,
            sinceLastClaim: .milliseconds(5), expected: nil),
        Case(
            name: "backlog: 19 ms after the last claim: still waits", running: 3, backlog: true,
            sinceLastClaim: .milliseconds(19), expected: nil),
        Case(
            name: "backlog: the 20 ms wait is over: claims what is free", running: 3, backlog: true,
            sinceLastClaim: .milliseconds(20), expected: ClaimPlan(limit: 1, kinds: ["noop"])),
        Case(
            name: "backlog: half the slots free: claims at once", running: 2, backlog: true,
            sinceLastClaim: .zero, expected: ClaimPlan(limit: 2, kinds: ["noop"])),
        Case(
            name: "backlog: a due poll claims regardless", pollDue: true, running: 3, backlog: true,
            sinceLastClaim: .zero, expected: ClaimPlan(limit: 1, kinds: ["noop"])),
        Case(
            name: "backlog, odd concurrency: 2 of 5 free is less than half", concurrency: 5, running: 3,
            backlog: true, sinceLastClaim: .zero, expected: nil),
        Case(
            name: "backlog, odd concurrency: 3 of 5 free is more than half", concurrency: 5, running: 2,
            backlog: true, sinceLastClaim: .zero, expected: ClaimPlan(limit: 3, kinds: ["noop"])),
        Case(
            name: "kinds at or over their limit are left out, in the order given", concurrency: 10, running: 6,
            runningByKind: ["mail": 2, "sms": 1, "push": 3, "free": 5],
            kinds: [
                (kind: "push", limit: 2), (kind: "sms", limit: 3), (kind: "free", limit: nil),
                (kind: "mail", limit: 2),
            ],
            expected: ClaimPlan(limit: 4, kinds: ["sms", "free"])),
        Case(
            name: "a limited kind with nothing running is claimed", kinds: [(kind: "mail", limit: 1)],
            expected: ClaimPlan(limit: 4, kinds: ["mail"])),
        Case(
            name: "only registered kinds are claimed", kinds: [(kind: "b", limit: nil), (kind: "a", limit: nil)],
            expected: ClaimPlan(limit: 4, kinds: ["b", "a"])),
    ]

    @Test("the next claim", arguments: cases)
    func next(_ row: Case) {
        let now = Self.origin + .seconds(60)
        let plan = ClaimPlan.next(
            requested: row.requested, pollDue: row.pollDue, concurrency: row.concurrency, running: row.running,
            runningByKind: row.runningByKind, kinds: row.kinds, backlog: row.backlog,
            lastClaim: now - row.sinceLastClaim, now: now)
        #expect(plan == row.expected)
    }

    struct WaitCase: Sendable, CustomTestStringConvertible {
        var name: String
        var requested = true
        var running = 3
        var backlog = true
        /// nil: no deferred claim to wake up for.
        var expected: Duration?

        var testDescription: String { name }
    }

    static let waitCases: [WaitCase] = [
        WaitCase(name: "a requested claim under a backlog wakes 20 ms after the last", expected: .milliseconds(20)),
        WaitCase(name: "not requested: nothing to wake for", requested: false, expected: nil),
        WaitCase(name: "no backlog: nothing is deferred", backlog: false, expected: nil),
        WaitCase(name: "no free slot: a finished handler wakes the loop instead", running: 4, expected: nil),
    ]

    @Test("when a claim held back by the backlog rule is due", arguments: waitCases)
    func backlogWait(_ row: WaitCase) {
        let lastClaim = Self.origin
        let due = ClaimPlan.backlogWaitEnds(
            requested: row.requested, concurrency: 4, running: row.running, backlog: row.backlog,
            lastClaim: lastClaim)
        #expect(due == row.expected.map { lastClaim + $0 })
    }

    /// `isClaimable` is what a finished handler checks before waking the loop: the same rule as a requested claim.
    @Test("claimable exactly when a requested claim without a due poll runs", arguments: 0...5, [false, true])
    func claimableMatchesPlan(running: Int, backlog: Bool) {
        for since in [Duration.zero, .milliseconds(19), .milliseconds(20)] {
            let now = Self.origin + .seconds(60)
            let claimable = ClaimPlan.isClaimable(
                concurrency: 4, running: running, backlog: backlog, lastClaim: now - since, now: now)
            let plan = ClaimPlan.next(
                requested: true, pollDue: false, concurrency: 4, running: running, runningByKind: [:],
                kinds: [(kind: "noop", limit: nil)], backlog: backlog, lastClaim: now - since, now: now)
            #expect(claimable == (plan != nil), "running \(running), backlog \(backlog), \(since) since the claim")
        }
    }
}
