public import Domain

/// How reminders are planned and sent (`reminders.*`, `telegram.*` configuration).
public struct ReminderSettings: Sendable, Equatable {
    /// Each a duration before the start instant (`reminders.offsets`, default `24h,2h`).
    public var offsets: [ReminderOffset]
    /// A reminder more than this past due is never sent (`reminders.grace`, default 15 min).
    public var grace: Duration
    /// The planner enqueues reminders falling due within this (`reminders.planner_horizon`, default 1 h).
    public var horizon: Duration
    /// The planner runs once per this across all workers (`reminders.planner_period`, default 60 s), besides its
    /// wake-ups on slot changes.
    public var plannerPeriod: Duration
    /// Bot API messages per second across all workers (`telegram.max_messages_per_second`, default 25).
    public var maxMessagesPerSecond: Double
    /// Minimum gap between two messages to one chat (1 s, Telegram's limit).
    public var chatGap: Duration
    /// Tell a candidate when their reservation lapsed (`tasks.notify_lapsed_reservations`, default false).
    public var notifyLapsedReservations: Bool
    /// Finished reminders (sent, skipped, failed) are deleted this long after they ended, once their slot started
    /// (`reminders.retention`, default 30 days); each `reminders.plan` run deletes what is due.
    public var retention: Duration

    public init(
        offsets: [ReminderOffset] = [ReminderOffset(seconds: 86_400), ReminderOffset(seconds: 7200)],
        grace: Duration = .seconds(900),
        horizon: Duration = .seconds(3600),
        plannerPeriod: Duration = .seconds(60),
        maxMessagesPerSecond: Double = 25,
        chatGap: Duration = .seconds(1),
        notifyLapsedReservations: Bool = false,
        retention: Duration = .seconds(30 * 86_400)
    ) {
        self.offsets = offsets
        self.grace = grace
        self.horizon = horizon
        self.plannerPeriod = plannerPeriod
        self.maxMessagesPerSecond = maxMessagesPerSecond
        self.chatGap = chatGap
        self.notifyLapsedReservations = notifyLapsedReservations
        self.retention = retention
    }

    /// Headroom of the shared limiter: it aims at 80% of the cap. Messages reach Telegram some time after their
    /// reserved instant (timer wake-up, scheduling, the network), and that delay varies by 100–200 ms on a busy
    /// machine; a window of one second that catches late messages and punctual ones must still stay under the cap.
    public static let headroom = 1.25
    /// The spacing the shared limiter keeps between two messages.
    public var spacing: Duration { .nanoseconds(Int64((Self.headroom * 1e9 / maxMessagesPerSecond).rounded(.up))) }
    /// The per-chat gap with the same headroom.
    public var effectiveChatGap: Duration { chatGap * Self.headroom }
}
