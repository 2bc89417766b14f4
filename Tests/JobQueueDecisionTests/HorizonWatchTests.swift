import JobQueue
import Testing

/// ``HorizonWatch`` as a table; no database, no clock (instants are offsets from one origin).
@Suite("Horizon watch")
struct HorizonWatchTests {
    typealias Snapshot = HorizonWatch.Snapshot

    /// A sample at second `at` seeing `snapshots`, and the age the watch reports then.
    struct Step: Sendable, CustomTestStringConvertible {
        var at: Int
        var snapshots: [Snapshot]
        var age: Int
        var testDescription: String { "\(at) s: \(snapshots.map { "\($0.holder)/\($0.xmin)" }) → \(age) s" }
    }

    static func step(_ at: Int, _ snapshots: [(String, Int64)], _ age: Int) -> Step {
        Step(at: at, snapshots: snapshots.map { Snapshot(holder: $0.0, xmin: $0.1) }, age: age)
    }

    @Test(
        "snapshots are timed from the first sample that saw them, afresh when their xmin moved, and forgotten when gone",
        arguments: [
            [step(0, [], 0), step(4, [], 0)],
            [step(0, [("pid 7", 100)], 0), step(5, [("pid 7", 100)], 5), step(9, [("pid 7", 100)], 9)],
            // The xmin moved: a newer horizon, timed afresh.
            [step(0, [("pid 7", 100)], 0), step(3, [("pid 7", 130)], 0), step(7, [("pid 7", 130)], 4)],
            // The oldest of several counts; a session gone is forgotten, and seen again it is timed afresh.
            [
                step(0, [("pid 7", 100)], 0), step(3, [("pid 7", 100), ("pid 8", 120)], 3),
                step(6, [("pid 8", 120)], 3), step(8, [], 0),
                step(9, [("pid 7", 100)], 0),
            ],
            // A replication slot is a holder of its own, beside a session with the same xmin.
            [step(0, [("slot standby", 500)], 0), step(6, [("slot standby", 500), ("pid 7", 500)], 6)],
        ]
    )
    func ages(_ steps: [Step]) {
        var watch = HorizonWatch()
        let start = ContinuousClock.now
        for step in steps {
            let age = watch.observe(step.snapshots, at: start + .seconds(step.at))
            #expect(age == .seconds(step.age), "\(step.testDescription)")
        }
    }
}
