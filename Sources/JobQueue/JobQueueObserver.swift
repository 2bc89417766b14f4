public import Foundation
public import Persistence

/// Receives the job queue's events, for metrics and health. The one instrumentation seam of runner, rescuer,
/// scheduler, pruner and sampler.
///
/// Kinds passed here are bounded: the registered kinds (a runner claims no other). Implementations must be cheap
/// and must never block or throw (they run on the runner's hot path). Every method has an empty default.
public protocol JobQueueObserver: Sendable {
    /// Declares the kinds a runner handles, so series can start at zero.
    func prepare(kinds: [String])
    /// A runner started (`+concurrency`) or stopped (`-concurrency`); summed over the runners of a process.
    func capacityChanged(by delta: Int)
    /// Jobs running in handlers changed; summed over the runners of a process.
    func inFlightChanged(by delta: Int)
    /// One claim statement returned `count` jobs (0 included).
    func claimed(count: Int)
    /// A handler started; `wait` is from the job's `run_at` to its claim.
    func started(kind: String, wait: Duration)
    /// A handler's attempt ended (not reported for attempts released at shutdown or lost to the rescuer).
    func finished(kind: String, outcome: JobOutcome, duration: Duration)
    /// The rescuer took back `count` jobs whose lease lapsed.
    func rescued(count: Int)
    /// The sampler read the queue depth from the database.
    func sampled(_ sample: QueueSample)
    /// A runner's claim round succeeded (idle or not) at `date`.
    func pollSucceeded(at date: Date)
    /// A job-queue statement failed with a database error (the service logs it and retries).
    func databaseFailed(_ error: RepositoryError)
}

extension JobQueueObserver {
    public func prepare(kinds: [String]) {}
    public func capacityChanged(by delta: Int) {}
    public func inFlightChanged(by delta: Int) {}
    public func claimed(count: Int) {}
    public func started(kind: String, wait: Duration) {}
    public func finished(kind: String, outcome: JobOutcome, duration: Duration) {}
    public func rescued(count: Int) {}
    public func sampled(_ sample: QueueSample) {}
    public func pollSucceeded(at date: Date) {}
    public func databaseFailed(_ error: RepositoryError) {}
}

/// An observer that records nothing.
public struct NoopJobQueueObserver: JobQueueObserver {
    public init() {}
}
