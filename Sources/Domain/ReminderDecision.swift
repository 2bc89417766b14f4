public import Foundation

/// What a `reminders.send` attempt does with its reminder, decided from the rows alone (no I/O).
public enum ReminderDecision: Sendable, Equatable {
    /// Send it to this chat now.
    case send(chatID: Int64)
    /// Record it skipped for this reason; send nothing.
    case skip(ReminderSkipReason)
    /// Not due yet (the job ran early, e.g. retried by an operator): wait until then.
    case wait(until: Date)
    /// Already sent, skipped or failed: nothing to do.
    case finished

    /// The slot as the decision needs it.
    public struct SlotState: Sendable, Equatable {
        public var status: SlotStatus
        public var startsAt: Date
        public var candidateTelegramID: Int64?
        public init(status: SlotStatus, startsAt: Date, candidateTelegramID: Int64?) {
            self.status = status
            self.startsAt = startsAt
            self.candidateTelegramID = candidateTelegramID
        }
    }

    /// Decides, in this order: finished; the slot is gone or not BOOKED/CONFIRMED with a candidate →
    /// `not_booked`; it starts at another instant than planned → `moved`; the interview began or more than
    /// `grace` passed since due → `late`; the candidate is unreachable → `unreachable`; not due yet → wait; send.
    ///
    /// A reminder in `sending` (a crash between the Bot API's answer and the record) is decided like a planned
    /// one and sent again: delivery is at-least-once.
    public static func decide(
        reminder: Reminder,
        slot: SlotState?,
        candidateUnreachable: Bool,
        now: Date,
        grace: Duration
    ) -> ReminderDecision {
        if reminder.isFinished { return .finished }
        guard let slot, slot.status == .booked || slot.status == .confirmed, let chatID = slot.candidateTelegramID
        else { return .skip(.notBooked) }
        if slot.startsAt != reminder.startsAt { return .skip(.moved) }
        let graceSeconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        if now >= slot.startsAt || now.timeIntervalSince(reminder.dueAt) > graceSeconds { return .skip(.late) }
        if candidateUnreachable { return .skip(.unreachable) }
        if now < reminder.dueAt { return .wait(until: reminder.dueAt) }
        return .send(chatID: chatID)
    }
}
