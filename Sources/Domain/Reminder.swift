public import Foundation

/// One reminder of one slot: identified by (slot, offset, the start instant it was planned for), so a slot that
/// moves gets new reminders and the old ones end skipped (`moved`). A reminder skipped `moved` or `not_booked` no
/// longer holds that identity, so a slot back at the start gets a new one; any other row holds it for good (never
/// two sends for one slot, offset and start). Rows are created by the planner from `slots`.
public struct Reminder: Sendable, Hashable {
    /// Where a reminder is in its life.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Planned; its `reminders.send` job waits for the due time.
        case planned
        /// Recorded just before the Bot API call; a row found in this state was maybe sent (a crash between the
        /// answer and the record) and is sent again: at-least-once.
        case sending
        /// Telegram accepted it (`messageID`).
        case sent
        /// Not sent, on purpose (``SkipReason``).
        case skipped
        /// Not sent: the Bot API refused it for good or attempts ran out (``FailureClass``).
        case failed
    }

    public var id: Int64
    public var slotID: Int64
    public var offset: ReminderOffset
    /// The slot's start this reminder was planned for.
    public var startsAt: Date
    /// `startsAt - offset`.
    public var dueAt: Date
    public var state: State
    /// The skip reason or failure class (raw value), for `skipped` and `failed`.
    public var reason: String?
    public var chatID: Int64?
    public var messageID: Int64?
    public var attempts: Int
    public var sentAt: Date?

    public init(
        id: Int64, slotID: Int64, offset: ReminderOffset, startsAt: Date, dueAt: Date, state: State,
        reason: String? = nil, chatID: Int64? = nil, messageID: Int64? = nil, attempts: Int = 0, sentAt: Date? = nil
    ) {
        self.id = id
        self.slotID = slotID
        self.offset = offset
        self.startsAt = startsAt
        self.dueAt = dueAt
        self.state = state
        self.reason = reason
        self.chatID = chatID
        self.messageID = messageID
        self.attempts = attempts
        self.sentAt = sentAt
    }

    /// True once nothing more will happen to it.
    public var isFinished: Bool { state == .sent || state == .skipped || state == .failed }
}

/// Why a reminder was not sent, on purpose.
public enum ReminderSkipReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// More than the grace past due, or the interview already began.
    case late
    /// The slot now starts at another instant (that start has reminders of its own).
    case moved
    /// The slot is no longer BOOKED or CONFIRMED (canceled, freed, expired) or has no candidate.
    case notBooked = "not_booked"
    /// The candidate is marked unreachable (the Bot API refused them for good).
    case unreachable
    /// The template is missing or names an unknown placeholder (the job fails permanently).
    case templateError = "template_error"
}

/// Why a reminder failed for good (or an attempt failed), as a metric label.
public enum ReminderFailureClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// 403 or 400 chat not found / bot blocked: the candidate is marked unreachable.
    case unreachable
    /// A 4xx other than 429 and the unreachable answers (e.g. message too long).
    case rejected
    /// 5xx.
    case serverError = "server_error"
    /// No answer within `telegram.timeout`.
    case timeout
    /// Connection refused, reset, DNS.
    case network
    /// 429 (only when attempts ran out).
    case rateLimited = "rate_limited"
    /// Not the Bot API's JSON.
    case invalidResponse = "invalid_response"
}
