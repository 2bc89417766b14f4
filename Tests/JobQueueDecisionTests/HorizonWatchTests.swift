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
        var testDescription: String { "\(at) s: \(snapshots.map { "\($0.pid)/\($0.xmin)" }) → \(age) s" }
    }

    static func step(_ at: Int, _ snapshots: [(Int, Int64)], _ age: Int) -> Step {
        Step(at: at, snapshots: snapshots.map { Snapshot(pid: $0.0, xmin: $0.1) }, age: age)
    }

    @Test(
        "snapshots are timed from the first sample that saw them, afresh when their xmin moved, and forgotten when gone",
        arguments: [
            [step(0, [], 0), step(4, [], 0)],
            [step(0, [(7, 100)], 0), step(5, [(7, 100)], 5), step(9, [(7, 100)], 9)],
            // The xmin moved: a newer horizon, timed afresh.
            [step(0, [(7, 100)], 0), step(3, [(7, 130)], 0), step(7, [(7, 130)], 4)],
            // The oldest of several counts; a session gone is forgotten, and seen again it is timed afresh.
            [
                step(0, [(7, 100)], 0), step(3, [(7, 100), (8, 120)], 3), step(6, [(8, 120)], 3), step(8, [], 0),
                step(9, [(7, 100)], 0),
            ],
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
