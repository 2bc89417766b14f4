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
        var kinds: [ClaimPlan.Kind] = [ClaimPlan.Kind("noop")]
        /// Database slots, attempts using them, and the last claim's mix (jobs, of them using the database).
        var databaseConcurrency = 2
        var runningUsingDatabase = 0
        var lastMix = (claimed: 10, usingDatabase: 0)
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
                ClaimPlan.Kind("push", limit: 2), ClaimPlan.Kind("sms", limit: 3), ClaimPlan.Kind("free"),
                ClaimPlan.Kind("mail", limit: 2),
            ],
            expected: ClaimPlan(limit: 4, kinds: ["sms", "free"])),
        Case(
            name: "a limited kind with nothing running is claimed", kinds: [ClaimPlan.Kind("mail", limit: 1)],
            expected: ClaimPlan(limit: 4, kinds: ["mail"])),
        Case(
            name: "only registered kinds are claimed", kinds: [ClaimPlan.Kind("b"), ClaimPlan.Kind("a")],
            expected: ClaimPlan(limit: 4, kinds: ["b", "a"])),
        Case(
            name: "every kind at its limit: no claim", running: 1, runningByKind: ["mail": 1],
            kinds: [ClaimPlan.Kind("mail", limit: 1)], expected: nil),
        // Kinds that use the database (their slots: `databaseConcurrency`, 2 here; concurrency 100).
        Case(
            name: "no claim yet (all assumed to use the database): the free database slots", concurrency: 100,
            kinds: mixed, lastMix: (1, 1), expected: ClaimPlan(limit: 2, kinds: ["noop", "report"])),
        Case(
            name: "the last claim brought no database job: every free slot", concurrency: 100, running: 30,
            kinds: mixed, expected: ClaimPlan(limit: 70, kinds: ["noop", "report"])),
        Case(
            name: "no database job last time, database slots taken: every free slot, other kinds only",
            concurrency: 100, running: 30, kinds: mixed, runningUsingDatabase: 2,
            expected: ClaimPlan(limit: 70, kinds: ["noop"], databaseKinds: false)),
        Case(
            name: "1 in 10 used the database: 10 jobs per free database slot", concurrency: 100, running: 1,
            kinds: mixed, runningUsingDatabase: 1, lastMix: (50, 5),
            expected: ClaimPlan(limit: 10, kinds: ["noop", "report"])),
        Case(
            name: "the mix's estimate is capped by the free slots", concurrency: 100, running: 95, kinds: mixed,
            lastMix: (50, 5), expected: ClaimPlan(limit: 5, kinds: ["noop", "report"])),
        Case(
            name: "all used the database: as many as database slots are free", concurrency: 100, running: 1,
            kinds: mixed, runningUsingDatabase: 1, lastMix: (2, 2),
            expected: ClaimPlan(limit: 1, kinds: ["noop", "report"])),
        Case(
            name: "database jobs ahead, their slots taken: no claim", concurrency: 100, running: 2, kinds: mixed,
            runningUsingDatabase: 2, lastMix: (2, 2), expected: nil),
        Case(
            name: "database jobs ahead, their slots taken, poll due: the other kinds into every free slot",
            pollDue: true, concurrency: 100, running: 2, kinds: mixed, runningUsingDatabase: 2, lastMix: (2, 2),
            expected: ClaimPlan(limit: 98, kinds: ["noop"], databaseKinds: false)),
        Case(
            name: "database slots taken, only database kinds registered, poll due: no claim", pollDue: true,
            concurrency: 100, running: 2, kinds: [ClaimPlan.Kind("report", usesDatabase: true)],
            runningUsingDatabase: 2, lastMix: (2, 2), expected: nil),
        Case(
            name: "backlog of database jobs: waits for half the database slots", concurrency: 100, running: 4,
            kinds: mixed, databaseConcurrency: 4, runningUsingDatabase: 3, lastMix: (4, 4), backlog: true,
            sinceLastClaim: .zero, expected: nil),
        Case(
            name: "backlog of database jobs: half of them free claims at once", concurrency: 100, running: 2,
            kinds: mixed, databaseConcurrency: 4, runningUsingDatabase: 2, lastMix: (4, 4), backlog: true,
            sinceLastClaim: .zero, expected: ClaimPlan(limit: 2, kinds: ["noop", "report"])),
    ]

    /// A kind that needs no connection and one that uses the database.
    static let mixed = [ClaimPlan.Kind("noop"), ClaimPlan.Kind("report", usesDatabase: true)]

    @Test("the next claim", arguments: cases)
    func next(_ row: Case) {
        let now = Self.origin + .seconds(60)
        let capacity = ClaimCapacity(
            concurrency: row.concurrency, running: row.running, databaseConcurrency: row.databaseConcurrency,
            runningUsingDatabase: row.runningUsingDatabase,
            mix: ClaimMix(claimed: row.lastMix.claimed, usingDatabase: row.lastMix.usingDatabase))
        let plan = ClaimPlan.next(
            requested: row.requested, pollDue: row.pollDue, capacity: capacity, runningByKind: row.runningByKind,
            kinds: row.kinds, backlog: row.backlog, lastClaim: now - row.sinceLastClaim, now: now)
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
            requested: row.requested, capacity: Self.capacity(running: row.running), backlog: row.backlog,
            lastClaim: lastClaim)
        #expect(due == row.expected.map { lastClaim + $0 })
    }

    /// `isClaimable` is what a finished handler checks before waking the loop: the same rule as a requested claim.
    /// Four slots, two for database jobs, the last claim brought no database job.
    static func capacity(running: Int, usingDatabase: Int = 0, lastUsingDatabase: Int = 0) -> ClaimCapacity {
        ClaimCapacity(
            concurrency: 4, running: running, databaseConcurrency: 2, runningUsingDatabase: usingDatabase,
            mix: ClaimMix(claimed: 2, usingDatabase: lastUsingDatabase))
    }

    @Test("claimable exactly when a requested claim without a due poll runs", arguments: 0...5, [false, true])
    func claimableMatchesPlan(running: Int, backlog: Bool) {
        for since in [Duration.zero, .milliseconds(19), .milliseconds(20)] {
            for (usingDatabase, lastUsingDatabase) in [(0, 0), (min(running, 2), 1), (min(running, 2), 2)] {
                let now = Self.origin + .seconds(60)
                let capacity = Self.capacity(
                    running: running, usingDatabase: usingDatabase, lastUsingDatabase: lastUsingDatabase)
                let claimable = ClaimPlan.isClaimable(
                    capacity: capacity, backlog: backlog, lastClaim: now - since, now: now)
                let plan = ClaimPlan.next(
                    requested: true, pollDue: false, capacity: capacity, runningByKind: [:],
                    kinds: [ClaimPlan.Kind("noop"), ClaimPlan.Kind("report", usesDatabase: true)], backlog: backlog,
                    lastClaim: now - since, now: now)
                #expect(
                    claimable == (plan != nil),
                    "running \(running) (\(usingDatabase) database), last mix \(lastUsingDatabase) of 2, backlog \(backlog), \(since) since the claim"
                )
            }
        }
    }
}
