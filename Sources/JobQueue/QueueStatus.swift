/// The operator's view of the queue: job counts by kind and state, and the oldest ready job's age.
public struct QueueStatus: Sendable, Equatable, Codable {
    /// Jobs per state name; every state is present (0 when empty).
    public var byState: [String: Int]
    /// Jobs per kind, then per state name (only non-zero counts).
    public var byKind: [String: [String: Int]]
    /// Seconds since the oldest `available` job became due; 0 when none is ready.
    public var oldestReadyAgeSeconds: Double

    public init(byState: [String: Int], byKind: [String: [String: Int]], oldestReadyAgeSeconds: Double) {
        self.byState = byState
        self.byKind = byKind
        self.oldestReadyAgeSeconds = oldestReadyAgeSeconds
    }

    /// All jobs in the table.
    public var total: Int { byState.values.reduce(0, +) }
}
