/// What happened to a slot, as recorded in its event log.
public enum SlotEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    case published
    case reserved
    case released
    case booked
    case confirmed
    case canceled
    case expired
}
