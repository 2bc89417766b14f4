/// The result of enqueueing one job.
public struct EnqueuedJob: Sendable, Equatable {
    /// The new job's id, or the id of the unfinished job that already had the unique key.
    public var id: Int64
    /// True when an unfinished job with the same unique key existed, so nothing was inserted.
    public var isDuplicate: Bool

    public init(id: Int64, isDuplicate: Bool) {
        self.id = id
        self.isDuplicate = isDuplicate
    }
}
