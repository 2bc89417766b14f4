/// The life cycle of an interview slot. Stored as upper-case text; the database enforces the same rules
/// (a CHECK on the value set and a trigger on transitions), so a bad status can't be written even from psql.
///
/// Allowed transitions (``allowedTransitions``):
///
/// | from      | to                              | meaning                                                |
/// |-----------|---------------------------------|--------------------------------------------------------|
/// | FREE      | RESERVED, CANCELED, EXPIRED     | reserved by a candidate; withdrawn; start passed        |
/// | RESERVED  | FREE, BOOKED, CANCELED, EXPIRED | lapsed or released; confirmed by the candidate; …       |
/// | BOOKED    | CONFIRMED, FREE, CANCELED       | attendance confirmed; the candidate cancelled; withdrawn |
/// | CONFIRMED | FREE, CANCELED                  | the candidate cancelled; withdrawn                      |
/// | CANCELED  | —                               | terminal                                                |
/// | EXPIRED   | —                               | terminal                                                |
///
/// `CANCELED` and `EXPIRED` are terminal. `BOOKED` and `CONFIRMED` never expire: once a candidate holds the slot
/// the interview happens (or is canceled explicitly).
public enum SlotStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Published and bookable. Never has a candidate or a reservation deadline.
    case free = "FREE"
    /// Held by a candidate until `reservedUntil`; the only status with a reservation deadline.
    case reserved = "RESERVED"
    /// The candidate confirmed the reservation; the interview is on.
    case booked = "BOOKED"
    /// The candidate confirmed attendance (e.g. answering a reminder).
    case confirmed = "CONFIRMED"
    /// The recruiter withdrew the slot. Terminal.
    case canceled = "CANCELED"
    /// The slot's start passed while it was FREE or RESERVED. Terminal.
    case expired = "EXPIRED"

    /// The statuses a slot in this status may move to. A status is never a transition to itself.
    ///
    /// Must stay equal to the SQL function `slot_status_transition_allowed` (a test compares every pair).
    public var allowedTransitions: Set<SlotStatus> {
        switch self {
        case .free: [.reserved, .canceled, .expired]
        case .reserved: [.free, .booked, .canceled, .expired]
        case .booked: [.confirmed, .free, .canceled]
        case .confirmed: [.free, .canceled]
        case .canceled, .expired: []
        }
    }

    /// True when a slot in this status may move to `next`.
    public func canTransition(to next: SlotStatus) -> Bool {
        allowedTransitions.contains(next)
    }

    /// True when a slot in this status must have a candidate (RESERVED, BOOKED, CONFIRMED).
    public var requiresCandidate: Bool {
        switch self {
        case .reserved, .booked, .confirmed: true
        case .free, .canceled, .expired: false
        }
    }

    /// True for CANCELED and EXPIRED, which allow no further transition.
    public var isTerminal: Bool { allowedTransitions.isEmpty }
}
