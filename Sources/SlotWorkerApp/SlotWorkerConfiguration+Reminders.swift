import Domain
import Foundation
import Tasks

extension SlotWorkerConfiguration {
    /// Reads the reminder, Telegram-limit and expiry keys (defaults in ``ReminderSettings``). Durations are
    /// written like `24h`, `15m`, `30s`, `250ms` or `1h30m`; a bare number is seconds.
    mutating func readReminderKeys(_ reader: ConfigurationReader) throws {
        var settings = ReminderSettings()
        if let text = try reader.string("reminders.offsets") {
            do { settings.offsets = try ReminderOffset.parseList(text) } catch {
                throw Invalid(key: "reminders.offsets", reason: "\"\(text)\": \(error.description)")
            }
        }
        settings.grace = try reader.duration("reminders.grace", default: settings.grace)
        settings.horizon = try reader.duration("reminders.planner_horizon", default: settings.horizon)
        settings.plannerPeriod = try reader.duration("reminders.planner_period", default: settings.plannerPeriod)
        guard settings.plannerPeriod >= .seconds(1), settings.plannerPeriod.components.attoseconds == 0 else {
            let text = try reader.string("reminders.planner_period") ?? ""
            throw Invalid(
                key: "reminders.planner_period", reason: "\"\(text)\" must be a whole number of seconds, at least 1s")
        }
        guard settings.horizon >= settings.plannerPeriod * 2 else {
            let text = try reader.string("reminders.planner_horizon") ?? "1h"
            let period = DurationText.format(seconds: Int(settings.plannerPeriod.components.seconds))
            throw Invalid(
                key: "reminders.planner_horizon",
                reason: "\"\(text)\" must be at least twice reminders.planner_period (\(period)), so every reminder "
                    + "is planned before it falls due")
        }
        if let text = try reader.string("telegram.max_messages_per_second") {
            guard let rate = Double(text.trimmingCharacters(in: .whitespaces)), rate > 0, rate <= 100_000 else {
                throw Invalid(
                    key: "telegram.max_messages_per_second", reason: "\"\(text)\" is not a number in (0, 100000]")
            }
            settings.maxMessagesPerSecond = rate
        }
        settings.retention = try reader.duration("reminders.retention", default: settings.retention)
        guard settings.retention >= .seconds(3600) else {
            throw Invalid(
                key: "reminders.retention",
                reason: "\"\(try reader.string("reminders.retention") ?? "")\" is shorter than 1h")
        }
        settings.notifyLapsedReservations = try reader.bool(
            "tasks.notify_lapsed_reservations", default: settings.notifyLapsedReservations)
        reminders = settings
        telegramTimeout = try reader.duration("telegram.timeout", default: telegramTimeout)
        guard telegramTimeout >= .milliseconds(100) else {
            throw Invalid(
                key: "telegram.timeout",
                reason: "\"\(try reader.string("telegram.timeout") ?? "")\" is shorter than 100ms")
        }
        slotStatsInterval = .seconds(try reader.int("tasks.slot_stats_every_seconds", default: 30, range: 1...86_400))
    }
}

extension ConfigurationReader {
    /// A duration (`24h`, `15m`, `30s`, `250ms`, `1h30m`; a bare number is seconds), or the default.
    func duration(_ key: String, default defaultValue: Duration) throws -> Duration {
        guard let text = try string(key) else { return defaultValue }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed), seconds >= 0 { return .seconds(seconds) }
        do { return .milliseconds(try DurationText.milliseconds(trimmed)) } catch {
            throw SlotWorkerConfiguration.Invalid(key: key, reason: error.description)
        }
    }
}
