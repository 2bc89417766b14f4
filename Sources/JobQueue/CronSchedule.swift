public import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) read in one IANA time zone, for
/// example `0 9 * * 1-5 Europe/Moscow` (09:00 Moscow time on weekdays). Without a zone the expression is read in UTC.
///
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n` and `a/n`; months and weekdays also
/// take names (`jan`…`dec`, `sun`…`sat`; weekday 7 is Sunday too). The macros `@hourly`, `@daily`, `@weekly`,
/// `@monthly` and `@yearly` stand for their usual expressions. As in Vixie cron, when both day fields are
/// restricted a day matches either of them.
///
/// Wall-clock times map to instants like this, so every scheduled local time runs exactly once:
/// - a local time that exists once is that instant;
/// - a local time that happens twice (the repeated hour when clocks go back) is its first occurrence;
/// - a local time that does not exist (skipped when clocks go forward) is the instant the clocks jumped, so
///   `30 2 * * *` still runs once on that day; several skipped times collapse into that one instant.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written (fields and zone).
    public let text: String
    /// The zone the fields are read in.
    public let timeZone: TimeZone
    private let minutes: [Int]
    private let hours: [Int]
    private let daysOfMonth: Set<Int>
    private let months: Set<Int>
    private let daysOfWeek: Set<Int>
    /// Both day fields restricted: a day matches either (else both must match).
    private let eitherDay: Bool

    /// A malformed expression, naming the part that is wrong.
    public struct ParseError: Error, CustomStringConvertible, Sendable, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// Parses `FIELDS [ZONE]`.
    ///
    /// - Throws: ``ParseError`` for a wrong field count, an out-of-range or malformed field, an unknown zone, or an
    ///   expression that never matches (such as `0 0 31 2 *`).
    public init(_ text: String) throws(ParseError) {
        var tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        if let first = tokens.first, first.hasPrefix("@") {
            let macros = [
                "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
            ]
            guard let expanded = macros[first.lowercased()] else {
                throw ParseError(
                    message: "unknown cron macro \(first) (known: \(macros.keys.sorted().joined(separator: ", ")))")
            }
            tokens = expanded.split(separator: " ").map(String.init) + tokens.dropFirst()
        }
        guard tokens.count == 5 || tokens.count == 6 else {
            throw ParseError(
                message: "cron expression \"\(text)\" has \(tokens.count) fields; expected 5 "
                    + "(minute hour day-of-month month day-of-week) and an optional IANA time zone")
        }
        var zone = TimeZone(identifier: "UTC")!
        if tokens.count == 6 {
            let name = tokens[5]
            guard name == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(name),
                let found = TimeZone(identifier: name)
            else {
                throw ParseError(message: "unknown time zone \"\(name)\" (use an IANA name such as Europe/Moscow)")
            }
            zone = found
        }
        let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        self.text = tokens.joined(separator: " ")
        self.timeZone = zone
        minutes = try Self.field(tokens[0], name: "minute", range: 0...59).sorted()
        hours = try Self.field(tokens[1], name: "hour", range: 0...23).sorted()
        daysOfMonth = try Self.field(tokens[2], name: "day of month", range: 1...31)
        months = try Self.field(tokens[3], name: "month", range: 1...12, names: monthNames, firstNameValue: 1)
        daysOfWeek = Set(
            try Self.field(tokens[4], name: "day of week", range: 0...7, names: dayNames, firstNameValue: 0).map {
                $0 % 7
            })
        eitherDay = !tokens[2].hasPrefix("*") && !tokens[4].hasPrefix("*")
        guard next(after: Date(timeIntervalSince1970: 0)) != nil else {
            throw ParseError(message: "cron expression \"\(text)\" never matches a date")
        }
    }

    public var description: String { text }

    public static func == (lhs: CronSchedule, rhs: CronSchedule) -> Bool { lhs.text == rhs.text }

    /// The first scheduled instant strictly after `date`, or nil when none comes within eight years.
    public func next(after date: Date) -> Date? {
        let start = localDay(of: date) - 1
        for day in start...(start + Self.searchDays) where matches(day: day) {
            if let instant = instants(onDay: day).first(where: { $0 > date }) { return instant }
        }
        return nil
    }

    /// The last scheduled instant at or before `date`, or nil when none came within eight years.
    public func previous(atOrBefore date: Date) -> Date? {
        let end = localDay(of: date) + 1
        for day in stride(from: end, through: end - Self.searchDays, by: -1) where matches(day: day) {
            if let instant = instants(onDay: day).last(where: { $0 <= date }) { return instant }
        }
        return nil
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

    private static let searchDays: Int64 = 8 * 366

    private func offset(_ seconds: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    private func localDay(of date: Date) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return Self.floorDiv(seconds + offset(seconds), 86_400)
    }

    private func matches(day: Int64) -> Bool {
        let (_, month, dayOfMonth) = Self.civil(fromDays: day)
        guard months.contains(month) else { return false }
        let weekday = Int(((day % 7) + 7 + 4) % 7)  // 1970-01-01 was a Thursday (4); Sunday is 0
        let domMatches = daysOfMonth.contains(dayOfMonth)
        let dowMatches = daysOfWeek.contains(weekday)
        return eitherDay ? (domMatches || dowMatches) : (domMatches && dowMatches)
    }

    /// The instants of one local day's scheduled times, ascending and unique.
    private func instants(onDay day: Int64) -> [Date] {
        var result: [Int64] = []
        for hour in hours {
            for minute in minutes {
                let instant = resolve(localSeconds: day * 86_400 + Int64(hour * 3600 + minute * 60))
                if result.last != instant { result.append(instant) }
            }
        }
        return result.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The instant of a local wall-clock time (see the type's notes for repeated and skipped times).
    func resolve(localSeconds local: Int64) -> Int64 {
        let before = offset(local - 86_400)
        let after = offset(local + 86_400)
        let candidates = Set([local - before, local - after]).filter { offset($0) == local - $0 }
        if let first = candidates.min() { return first }
        // Skipped: the clocks jumped from `before` to a larger `after` somewhere in (local - after, local - before].
        var low = local - after
        var high = local - before
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == before { low = middle } else { high = middle }
        }
        return high
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// Year, month, day of a day number (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        let month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: - Fields

    private static func field(
        _ text: String,
        name: String,
        range: ClosedRange<Int>,
        names: [String] = [],
        firstNameValue: Int = 0
    ) throws(ParseError) -> Set<Int> {
        func value(_ token: Substring) throws(ParseError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.lowercased()) { return index + firstNameValue }
            throw ParseError(
                message:
                    "cron \(name) field \"\(text)\": \"\(token)\" is not within \(range.lowerBound)-\(range.upperBound)"
            )
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let base = pieces.first, !base.isEmpty else {
                throw ParseError(message: "cron \(name) field \"\(text)\" is malformed")
            }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed >= 1 else {
                    throw ParseError(
                        message: "cron \(name) field \"\(text)\": step \"\(pieces[1])\" is not a positive integer")
                }
                step = parsed
            }
            var low = range.lowerBound
            var high = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else {
                    throw ParseError(message: "cron \(name) field \"\(text)\" is malformed")
                }
                low = try value(bounds[0])
                high = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else {
                    throw ParseError(message: "cron \(name) field \"\(text)\": range \(base) runs backwards")
                }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }
}
