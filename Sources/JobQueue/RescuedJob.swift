/// A running job whose lease lapsed and that the rescuer took back.
public struct RescuedJob: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    /// `available` (another attempt follows) or `dead` (that was its last attempt).
    public var state: JobState

    public init(id: Int64, kind: String, state: JobState) {
        self.id = id
        self.kind = kind
        self.state = state
    }
}
