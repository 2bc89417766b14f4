/// A status change a background task made to a slot (for its event row, metrics and the candidate's notice).
public struct SlotTransition: Sendable, Hashable {
    public var slotID: Int64
    public var from: SlotStatus
    public var to: SlotStatus
    /// Who held the slot before the change.
    public var candidateTelegramID: Int64?

    public init(slotID: Int64, from: SlotStatus, to: SlotStatus, candidateTelegramID: Int64?) {
        self.slotID = slotID
        self.from = from
        self.to = to
        self.candidateTelegramID = candidateTelegramID
    }
}
