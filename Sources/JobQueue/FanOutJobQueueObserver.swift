public import Foundation
public import Persistence

/// Hands every event to each of several observers, in order (e.g. metrics and health from one hook).
public struct FanOutJobQueueObserver: JobQueueObserver {
    public let observers: [any JobQueueObserver]

    public init(_ observers: [any JobQueueObserver]) {
        self.observers = observers
    }

    public func prepare(kinds: [String]) {
        for observer in observers { observer.prepare(kinds: kinds) }
    }

    public func capacityChanged(by delta: Int) {
        for observer in observers { observer.capacityChanged(by: delta) }
    }

    public func inFlightChanged(by delta: Int) {
        for observer in observers { observer.inFlightChanged(by: delta) }
    }

    public func claimed(count: Int) {
        for observer in observers { observer.claimed(count: count) }
    }

    public func started(kind: String, wait: Duration) {
        for observer in observers { observer.started(kind: kind, wait: wait) }
    }

    public func finished(kind: String, outcome: JobOutcome, duration: Duration) {
        for observer in observers { observer.finished(kind: kind, outcome: outcome, duration: duration) }
    }

    public func rescued(count: Int) {
        for observer in observers { observer.rescued(count: count) }
    }

    public func sampled(_ sample: QueueSample) {
        for observer in observers { observer.sampled(sample) }
    }

    public func pollSucceeded(at date: Date) {
        for observer in observers { observer.pollSucceeded(at: date) }
    }

    public func databaseFailed(_ error: RepositoryError) {
        for observer in observers { observer.databaseFailed(error) }
    }
}
