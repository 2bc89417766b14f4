public import Foundation

/// When a ``PeriodicJob`` runs: a fixed period aligned to the Unix epoch, or a ``CronSchedule`` in a time zone.
public enum PeriodicSchedule: Sendable, Equatable, CustomStringConvertible {
    /// Every period, a whole number of seconds (periods start at multiples of it since the epoch, in UTC).
    case every(Duration)
    /// At each instant of a cron expression.
    case cron(CronSchedule)

    /// How late a cron instant may still be enqueued (after a restart or a database outage); older instants are
    /// skipped, not caught up.
    public static let cronLateness: TimeInterval = 300

    /// Parses configuration text: `every 60s` / `every 5m` / `every 2h` / `every 300` (seconds), or a cron
    /// expression with an optional zone (`0 9 * * * Europe/Moscow`, see ``CronSchedule``).
    public static func parse(_ text: String) throws(CronSchedule.ParseError) -> PeriodicSchedule {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("every ") else { return .cron(try CronSchedule(trimmed)) }
        var amount = trimmed.dropFirst("every ".count).trimmingCharacters(in: .whitespaces).lowercased()
        var unit: Int64 = 1
        if let last = amount.last, let multiplier = ["s": 1, "m": 60, "h": 3600, "d": 86_400][String(last)] {
            unit = Int64(multiplier)
            amount.removeLast()
        }
        guard let count = Int64(amount), count >= 1, count <= 86_400 * 366 / unit else {
            throw CronSchedule.ParseError(
                message: "\"\(text)\" is not a period like \"every 60s\", \"every 5m\", \"every 2h\" (at least 1 s)")
        }
        return .every(.seconds(count * unit))
    }

    public var description: String {
        switch self {
        case .every(let period): "every \(period.components.seconds)s"
        case .cron(let cron): cron.text
        }
    }

    /// The scheduled instant whose run is due at `date`, if any: for a period, the start of the period containing
    /// `date`; for cron, the last instant at or before `date` when it is at most ``cronLateness`` old.
    public func due(at date: Date) -> Date? {
        switch self {
        case .every(let period):
            let seconds = period.components.seconds
            let epoch = Int64(date.timeIntervalSince1970.rounded(.down))
            return Date(timeIntervalSince1970: TimeInterval(epoch - ((epoch % seconds) + seconds) % seconds))
        case .cron(let cron):
            guard let last = cron.previous(atOrBefore: date), date.timeIntervalSince(last) <= Self.cronLateness
            else { return nil }
            return last
        }
    }

    /// The first scheduled instant strictly after `date` (nil: none within eight years).
    public func next(after date: Date) -> Date? {
        switch self {
        case .every(let period):
            return due(at: date).map { $0.addingTimeInterval(TimeInterval(period.components.seconds)) }
        case .cron(let cron):
            return cron.next(after: date)
        }
    }

    /// The last scheduled instant at or before `date`, however old.
    public func previous(atOrBefore date: Date) -> Date? {
        switch self {
        case .every: due(at: date)
        case .cron(let cron): cron.previous(atOrBefore: date)
        }
    }
}
