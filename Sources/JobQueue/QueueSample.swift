/// Queue depth by state and the age of the oldest ready job, sampled from the database with one statement.
///
/// Finished states other than `dead` are not sampled: counting them would scan every retained row.
public struct QueueSample: Sendable, Equatable {
    /// Jobs per sampled state: `scheduled`, `available`, `running`, `dead`.
    public var depth: [JobState: Int]
    /// Seconds since the oldest `available` job became due; 0 when none is ready.
    public var oldestReadyAge: Double

    /// The states a sample counts.
    public static let sampledStates: [JobState] = [.scheduled, .available, .running, .dead]

    public init(depth: [JobState: Int], oldestReadyAge: Double) {
        self.depth = depth
        self.oldestReadyAge = oldestReadyAge
    }
}
