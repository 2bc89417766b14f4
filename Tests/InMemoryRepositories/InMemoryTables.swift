public import Domain

/// The rows of an ``InMemoryStore``: the committed state, and the private copy each Unit of Work changes.
public struct InMemoryTables: Sendable, Equatable {
    public var slots: [Int64: Slot] = [:]
    public var slotEvents: [Int64: SlotEvent] = [:]
    public var recruiters: [Int64: Recruiter] = [:]
    /// The next generated id (one sequence for every table, like distinct identity columns would not; ids only need
    /// to be unique and increasing).
    var nextID: Int64 = 1

    public init() {}

    /// A fresh id.
    mutating func newID() -> Int64 {
        defer { nextID += 1 }
        return nextID
    }
}
