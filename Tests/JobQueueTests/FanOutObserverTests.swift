import Foundation
import JobQueue
import Persistence
import Synchronization
import Testing

@Suite("Fan-out observer")
struct FanOutObserverTests {
    /// Records every event as one line.
    final class Recorder: JobQueueObserver {
        let events = Mutex<[String]>([])

        private func record(_ event: String) { events.withLock { $0.append(event) } }
        func prepare(kinds: [String]) { record("prepare \(kinds)") }
        func capacityChanged(by delta: Int) { record("capacity \(delta)") }
        func inFlightChanged(by delta: Int) { record("inFlight \(delta)") }
        func claimed(count: Int) { record("claimed \(count)") }
        func started(kind: String, wait: Duration) { record("started \(kind) \(wait)") }
        func finished(kind: String, outcome: JobOutcome, duration: Duration) {
            record("finished \(kind) \(outcome) \(duration)")
        }
        func rescued(count: Int) { record("rescued \(count)") }
        func sampled(_ sample: QueueSample) { record("sampled \(sample.oldestReadyAge)") }
        func pollSucceeded(at date: Date) { record("poll \(date.timeIntervalSince1970)") }
        func databaseFailed(_ error: RepositoryError) { record("failed \(error.description)") }
    }

    @Test("every event reaches every observer once, in order")
    func forwardsEveryEvent() {
        let first = Recorder()
        let second = Recorder()
        let fanOut: any JobQueueObserver = FanOutJobQueueObserver([first, second])
        fanOut.prepare(kinds: ["noop"])
        fanOut.capacityChanged(by: 4)
        fanOut.inFlightChanged(by: 1)
        fanOut.claimed(count: 2)
        fanOut.started(kind: "noop", wait: .milliseconds(3))
        fanOut.finished(kind: "noop", outcome: .succeeded, duration: .milliseconds(5))
        fanOut.rescued(count: 1)
        fanOut.sampled(QueueSample(depth: [:], oldestReadyAge: 7))
        fanOut.pollSucceeded(at: Date(timeIntervalSince1970: 42))
        fanOut.databaseFailed(.notFound(entity: "job", id: "1"))
        let expected = [
            "prepare [\"noop\"]", "capacity 4", "inFlight 1", "claimed 2", "started noop 0.003 seconds",
            "finished noop succeeded 0.005 seconds", "rescued 1", "sampled 7.0", "poll 42.0",
            "failed \(RepositoryError.notFound(entity: "job", id: "1").description)",
        ]
        #expect(first.events.withLock { $0 } == expected)
        #expect(second.events.withLock { $0 } == expected)
    }
}
