public import Domain
public import Monitoring
import Prometheus
import Synchronization
public import Tasks

/// The domain tasks' metrics (reminders, Telegram, slot transitions, slots by status) in the process's
/// ``MetricsRegistry``: the Prometheus adapter of ``SlotTasksObserver``.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `slotworker_reminders_sent_total` | counter | `offset` |
/// | `slotworker_reminders_skipped_total` | counter | `offset`, `reason` = late, moved, not_booked, unreachable, template_error |
/// | `slotworker_reminders_failed_total` | counter | `offset`, `class` = unreachable, rejected, server_error, timeout, network, rate_limited, invalid_response |
/// | `slotworker_reminder_lag_seconds` | histogram (sent − due) | `offset` |
/// | `slotworker_telegram_requests_total` | counter | `method`, `code` (HTTP status, `4xx`/`5xx`/`other`, `timeout`, `network`) |
/// | `slotworker_telegram_request_duration_seconds` | histogram | `method` |
/// | `slotworker_slot_transitions_total` | counter | `from`, `to`, `reason` = lapsed, past |
/// | `slotworker_slots` | gauge (sampled) | `status` |
///
/// Every label set of the configured offsets, the Telegram status labels and the tasks' transitions starts at 0.
public final class PrometheusSlotTasksMetrics: SlotTasksObserver {
    /// Lag from due to sent, 10 ms to 15 min (the default grace).
    public static let lagBuckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900]
    /// Bot API request durations, 10 ms to 30 s.
    public static let requestBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private let registry: MetricsRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let lags = Mutex<[String: HistogramSeries]>([:])
    private let durations = Mutex<[String: HistogramSeries]>([:])
    private let statusGauges: [SlotStatus: Gauge]

    public init(registry: MetricsRegistry) {
        self.registry = registry
        var gauges: [SlotStatus: Gauge] = [:]
        for status in SlotStatus.allCases {
            gauges[status] = registry.gauge(
                "slotworker_slots", help: "Slots by status, sampled from the database.",
                labels: ["status": status.rawValue])
        }
        statusGauges = gauges
        for transition in SlotTaskTransitions.all {
            _ = transitionCounter(from: transition.from, to: transition.to, reason: transition.reason)
        }
        for status in TelegramClient.statusLabels { _ = telegramCounter(method: "sendMessage", code: status) }
        _ = duration(method: "sendMessage")
    }

    public func prepare(offsets: [ReminderOffset]) {
        for offset in offsets {
            for outcome in ReminderOutcome.all { _ = reminderCounter(offset: offset.label, outcome: outcome) }
            _ = lag(offset: offset.label)
        }
    }

    public func reminderFinished(offset: ReminderOffset, outcome: ReminderOutcome) {
        reminderCounter(offset: offset.label, outcome: outcome).increment()
    }

    public func reminderSent(offset: ReminderOffset, lagSeconds: Double) {
        lag(offset: offset.label).record(max(0, lagSeconds))
    }

    public func telegramRequest(method: String, status: String, duration elapsed: Duration) {
        telegramCounter(method: method, code: status).increment()
        duration(method: method).record(elapsed)
    }

    public func slotTransitions(from: SlotStatus, to: SlotStatus, reason: String, count: Int) {
        transitionCounter(from: from, to: to, reason: reason).increment(by: Int64(count))
    }

    public func slotsByStatus(_ counts: [SlotStatus: Int]) {
        for (status, gauge) in statusGauges { gauge.set(to: Double(counts[status] ?? 0)) }
    }

    // MARK: - Series

    private func reminderCounter(offset: String, outcome: ReminderOutcome) -> Counter {
        switch outcome {
        case .sent:
            counter(
                "slotworker_reminders_sent_total", help: "Reminders the Bot API accepted, by offset.",
                labels: ["offset": offset])
        case .skipped(let reason):
            counter(
                "slotworker_reminders_skipped_total",
                help: "Reminders not sent on purpose, by offset and reason (late, moved, not_booked, unreachable, "
                    + "template_error).",
                labels: ["offset": offset, "reason": reason.rawValue])
        case .failed(let failure):
            counter(
                "slotworker_reminders_failed_total",
                help: "Reminders that failed for good, by offset and error class.",
                labels: ["offset": offset, "class": failure.rawValue])
        }
    }

    private func telegramCounter(method: String, code: String) -> Counter {
        counter(
            "slotworker_telegram_requests_total",
            help: "Telegram Bot API requests by method and HTTP status (or timeout/network).",
            labels: ["method": method, "code": code])
    }

    private func transitionCounter(from: SlotStatus, to: SlotStatus, reason: String) -> Counter {
        counter(
            "slotworker_slot_transitions_total",
            help: "Slot status changes made by the background tasks, by from, to and reason.",
            labels: ["from": from.rawValue, "to": to.rawValue, "reason": reason])
    }

    private func counter(_ name: String, help: String, labels: [String: String]) -> Counter {
        let key = name + "|" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        if let existing = counters.withLock({ $0[key] }) { return existing }
        let created = registry.counter(name, help: help, labels: labels)
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            counters[key] = created
            return created
        }
    }

    private func lag(offset: String) -> HistogramSeries {
        if let existing = lags.withLock({ $0[offset] }) { return existing }
        let created = registry.valueHistogram(
            "slotworker_reminder_lag_seconds", help: "Seconds from a reminder's due time to its sending, by offset.",
            labels: ["offset": offset], buckets: Self.lagBuckets)
        return lags.withLock { lags in
            if let existing = lags[offset] { return existing }
            lags[offset] = created
            return created
        }
    }

    private func duration(method: String) -> HistogramSeries {
        if let existing = durations.withLock({ $0[method] }) { return existing }
        let created = registry.durationHistogram(
            "slotworker_telegram_request_duration_seconds", help: "Telegram Bot API request durations by method.",
            labels: ["method": method], buckets: Self.requestBuckets)
        return durations.withLock { durations in
            if let existing = durations[method] { return existing }
            durations[method] = created
            return created
        }
    }
}
