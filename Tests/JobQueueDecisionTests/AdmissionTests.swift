import JobQueue
import Testing

/// Whether a claimed job starts (``Admission``), as a table.
@Suite("Admission")
struct AdmissionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var kindLimit: Int?
        var runningOfKind = 0
        var running = 0
        var concurrency = 4
        var usesDatabase = false
        var runningUsingDatabase = 0
        var databaseConcurrency = 2
        var expected: Admission

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no kind limit, slots free: starts", runningOfKind: 2, running: 2, expected: .start),
        Case(name: "below the kind's limit: starts", kindLimit: 2, runningOfKind: 1, running: 1, expected: .start),
        Case(name: "at the kind's limit: released", kindLimit: 2, runningOfKind: 2, running: 2, expected: .release),
        Case(name: "over the kind's limit: released", kindLimit: 2, runningOfKind: 3, running: 3, expected: .release),
        Case(name: "kind limit 1, nothing of it running: starts", kindLimit: 1, running: 3, expected: .start),
        Case(name: "the runner is full: released", running: 4, expected: .release),
        Case(
            name: "the runner is full, the kind below its limit: released", kindLimit: 3, runningOfKind: 1,
            running: 4, expected: .release),
        Case(name: "the last free slot: starts", running: 3, expected: .start),
        Case(
            name: "database kind, a database slot free: starts", running: 2, usesDatabase: true,
            runningUsingDatabase: 1, expected: .start),
        Case(
            name: "database kind, its slots taken: released", running: 2, usesDatabase: true, runningUsingDatabase: 2,
            expected: .release),
        Case(
            name: "kind without database use, the database slots taken: starts", running: 2,
            runningUsingDatabase: 2, expected: .start),
        Case(
            name: "database kind, a database slot free but the runner full: released", running: 4,
            usesDatabase: true, runningUsingDatabase: 1, expected: .release),
        Case(
            name: "database kind at its own limit, a database slot free: released", kindLimit: 1, runningOfKind: 1,
            running: 1, usesDatabase: true, runningUsingDatabase: 1, expected: .release),
    ]

    @Test("admission of a claimed job", arguments: cases)
    func admission(_ row: Case) {
        let admission = Admission(
            kindLimit: row.kindLimit, runningOfKind: row.runningOfKind, usesDatabase: row.usesDatabase,
            capacity: ClaimCapacity(
                concurrency: row.concurrency, running: row.running, databaseConcurrency: row.databaseConcurrency,
                runningUsingDatabase: row.runningUsingDatabase))
        #expect(admission == row.expected)
    }
}
