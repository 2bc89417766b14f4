/// The payload of `reminders.send`.
public struct ReminderPayload: Codable, Sendable, Equatable {
    /// The slot to remind about.
    public var slotID: Int64
    /// Which reminder: `24h` or `2h` (also the template key suffix: `reminder.24h`).
    public var kind: String

    public init(slotID: Int64, kind: String) {
        self.slotID = slotID
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey {
        case slotID = "slot_id"
        case kind
    }
}
