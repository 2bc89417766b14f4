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
    ]

    @Test("admission of a claimed job", arguments: cases)
    func admission(_ row: Case) {
        let admission = Admission(
            kindLimit: row.kindLimit, runningOfKind: row.runningOfKind, running: row.running,
            concurrency: row.concurrency)
        #expect(admission == row.expected)
    }
}
