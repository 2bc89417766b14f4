public import Domain

/// How a reminder ended (or, for ``ReminderOutcome/failed(_:)``, gave up).
public enum ReminderOutcome: Sendable, Hashable {
    case sent
    case skipped(ReminderSkipReason)
    case failed(ReminderFailureClass)

    /// Every outcome, for series created at zero.
    public static var all: [ReminderOutcome] {
        [.sent] + ReminderSkipReason.allCases.map(ReminderOutcome.skipped)
            + ReminderFailureClass.allCases.map(ReminderOutcome.failed)
    }
}

/// What the domain tasks report, for metrics. Lower modules own this protocol; the Prometheus adapter lives in
/// `MonitoringAdapters`. Calls are cheap and never block.
public protocol SlotTasksObserver: Sendable {
    /// The configured offsets, once at start (series for each offset and outcome start at 0).
    func prepare(offsets: [ReminderOffset])
    /// A reminder ended (planner: skipped late; sender: everything else).
    func reminderFinished(offset: ReminderOffset, outcome: ReminderOutcome)
    /// A reminder was sent this long after it fell due (negative: early).
    func reminderSent(offset: ReminderOffset, lagSeconds: Double)
    /// A Bot API request: method, status label (``TelegramClient/statusLabel(_:)``, `timeout`, `network`), time.
    func telegramRequest(method: String, status: String, duration: Duration)
    /// Slots a task moved from one status to another, and why (`lapsed`, `past`).
    func slotTransitions(from: SlotStatus, to: SlotStatus, reason: String, count: Int)
    /// A sample of the slots table: slots per status.
    func slotsByStatus(_ counts: [SlotStatus: Int])
}

/// Reports nothing.
public struct NoopSlotTasksObserver: SlotTasksObserver {
    public init() {}
    public func prepare(offsets: [ReminderOffset]) {}
    public func reminderFinished(offset: ReminderOffset, outcome: ReminderOutcome) {}
    public func reminderSent(offset: ReminderOffset, lagSeconds: Double) {}
    public func telegramRequest(method: String, status: String, duration: Duration) {}
    public func slotTransitions(from: SlotStatus, to: SlotStatus, reason: String, count: Int) {}
    public func slotsByStatus(_ counts: [SlotStatus: Int]) {}
}

/// The transitions the tasks make, with their reasons (for series created at zero).
public enum SlotTaskTransitions {
    public static let all: [(from: SlotStatus, to: SlotStatus, reason: String)] = [
        (.reserved, .free, "lapsed"), (.free, .expired, "past"), (.reserved, .expired, "past"),
    ]
}
