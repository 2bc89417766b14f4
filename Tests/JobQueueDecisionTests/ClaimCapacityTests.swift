import JobQueue
import Testing

/// How many jobs a claim may take (``ClaimCapacity``), as a table.
@Suite("Claim capacity")
struct ClaimCapacityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var concurrency = 1000
        var running = 0
        var databaseConcurrency = 10
        var runningUsingDatabase = 0
        var lastClaimed = 1
        var lastUsingDatabase = 1
        var jobs: Int
        var databaseKinds: Bool
        var idle: Int

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "before any claim: the database slots", jobs: 10, databaseKinds: true, idle: 10),
        Case(
            name: "no database job in the last claim: every free slot", running: 400, lastClaimed: 1000,
            lastUsingDatabase: 0, jobs: 600, databaseKinds: true, idle: 1000),
        Case(
            name: "no database job last time, database slots taken: free slots, other kinds only", running: 10,
            runningUsingDatabase: 10, lastClaimed: 1000, lastUsingDatabase: 0, jobs: 990, databaseKinds: false,
            idle: 1000),
        Case(
            name: "half used the database: twice the free database slots", running: 4, runningUsingDatabase: 4,
            lastClaimed: 20, lastUsingDatabase: 10, jobs: 12, databaseKinds: true, idle: 20),
        Case(
            name: "1 in 100 used the database: capped by the free slots", running: 900, lastClaimed: 1000,
            lastUsingDatabase: 10, jobs: 100, databaseKinds: true, idle: 1000),
        Case(
            name: "database jobs ahead, none of their slots free: none", running: 10, runningUsingDatabase: 10,
            lastClaimed: 10, lastUsingDatabase: 10, jobs: 0, databaseKinds: false, idle: 10),
        Case(
            name: "the runner full: none", concurrency: 5, running: 5, runningUsingDatabase: 0, lastClaimed: 5,
            lastUsingDatabase: 0, jobs: 0, databaseKinds: false, idle: 5),
        Case(
            name: "more database slots than slots: the slots bound", concurrency: 4, databaseConcurrency: 10, jobs: 4,
            databaseKinds: true, idle: 4),
        Case(
            name: "a mix reported larger than the claim is clamped to all of it", lastClaimed: 3,
            lastUsingDatabase: 7, jobs: 10, databaseKinds: true, idle: 10),
    ]

    @Test("the claim's limit", arguments: cases)
    func limit(_ row: Case) {
        let capacity = ClaimCapacity(
            concurrency: row.concurrency, running: row.running, databaseConcurrency: row.databaseConcurrency,
            runningUsingDatabase: row.runningUsingDatabase,
            mix: ClaimMix(claimed: row.lastClaimed, usingDatabase: row.lastUsingDatabase))
        #expect(capacity.limit.jobs == row.jobs)
        #expect(capacity.limit.databaseKinds == row.databaseKinds)
        #expect(capacity.idleLimit == row.idle)
    }

    @Test("what a claim teaches about the mix")
    func mix() {
        let all = ClaimPlan(limit: 10, kinds: ["noop", "report"])
        let others = ClaimPlan(limit: 10, kinds: ["noop"], databaseKinds: false)
        let mixed = ClaimMix(claimed: 20, usingDatabase: 5)
        #expect(ClaimMix.unknown.after(all, claimed: 10, usingDatabase: 0) == ClaimMix(claimed: 10, usingDatabase: 0))
        #expect(mixed.after(all, claimed: 0, usingDatabase: 0) == mixed, "an empty claim tells nothing")
        #expect(mixed.after(others, claimed: 10, usingDatabase: 0) == mixed, "nor one that could not take them")
        #expect(ClaimMix(claimed: 0, usingDatabase: 3) == ClaimMix(claimed: 1, usingDatabase: 1), "clamped")
    }
}
