/// The operator's view of the queue: job counts by kind and state, the oldest ready job's age, and the ready jobs
/// no live worker runs.
public struct QueueStatus: Sendable, Equatable, Codable {
    /// Jobs per state name; every state is present (0 when empty).
    public var byState: [String: Int]
    /// Jobs per kind, then per state name (only non-zero counts).
    public var byKind: [String: [String: Int]]
    /// Seconds since the oldest `available` job became due; 0 when none is ready.
    public var oldestReadyAgeSeconds: Double
    /// Ready jobs per queue, then per kind, that no live worker runs (no worker registered that kind for that
    /// queue in `job_workers` within the live window): they wait for a worker that runs them, as during a
    /// rolling deploy. Only non-zero counts.
    public var unrunnable: [String: [String: Int]]

    public init(
        byState: [String: Int],
        byKind: [String: [String: Int]],
        oldestReadyAgeSeconds: Double,
        unrunnable: [String: [String: Int]] = [:]
    ) {
        self.byState = byState
        self.byKind = byKind
        self.oldestReadyAgeSeconds = oldestReadyAgeSeconds
        self.unrunnable = unrunnable
    }

    /// All jobs in the table.
    public var total: Int { byState.values.reduce(0, +) }
}
