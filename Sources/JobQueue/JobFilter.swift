import PostgresClient

/// Which jobs an operator means: any combination of states, one kind, one queue and explicit ids (empty or nil
/// parts match everything). Used by `slot-worker jobs …` and the console alike.
public struct JobFilter: Sendable, Equatable {
    public var states: [JobState]
    public var kind: String?
    public var queue: String?
    public var ids: [Int64]

    public init(states: [JobState] = [], kind: String? = nil, queue: String? = nil, ids: [Int64] = []) {
        self.states = states
        self.kind = kind.flatMap { $0.isEmpty ? nil : $0 }
        self.queue = queue.flatMap { $0.isEmpty ? nil : $0 }
        self.ids = ids
    }

    /// True when the filter restricts nothing.
    public var matchesEverything: Bool { states.isEmpty && kind == nil && queue == nil && ids.isEmpty }

    /// The filter's four binds, in the order ``OperatorSQL/filter`` reads them (`$1`…`$4`).
    var binds: [any PostgresEncodable] {
        [states.map(\.rawValue), kind, queue, ids]
    }
}
