import Foundation
import JobQueue
import Testing

/// The cron math, as pure table-driven tests: fields, zones, and the DST rules (a skipped local time runs once at
/// the jump, a repeated one once, at its first occurrence).
@Suite("Cron schedules")
struct CronScheduleTests {
    static func utc(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    /// The instants of `expression` strictly after `start`, up to `end`.
    static func walk(_ expression: String, from start: String, to end: String) throws -> [Date] {
        let cron = try CronSchedule(expression)
        var instants: [Date] = []
        var cursor = utc(start)
        while let next = cron.next(after: cursor), next <= utc(end) {
            instants.append(next)
            cursor = next
        }
        return instants
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var from: String
        var to: String
        var expected: [String]
        var testDescription: String { "\(expression) from \(from)" }
    }

    static let cases: [Case] = [
        // A zone without DST: 09:00 Moscow is 06:00 UTC.
        Case(
            expression: "0 9 * * * Europe/Moscow", from: "2026-12-01T00:00:00Z", to: "2026-12-03T00:00:00Z",
            expected: ["2026-12-01T06:00:00Z", "2026-12-02T06:00:00Z"]),
        // UTC when no zone is given; steps and ranges.
        Case(
            expression: "15-45/15 10 * * *", from: "2026-06-01T00:00:00Z", to: "2026-06-01T23:00:00Z",
            expected: ["2026-06-01T10:15:00Z", "2026-06-01T10:30:00Z", "2026-06-01T10:45:00Z"]),
        // Berlin springs forward on 2026-03-29 at 02:00 CET (01:00 UTC): 02:30 does not exist that day and runs once,
        // at the jump; the days around it run at 02:30 local.
        Case(
            expression: "30 2 * * * Europe/Berlin", from: "2026-03-28T12:00:00Z", to: "2026-03-31T00:00:00Z",
            expected: ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]),
        // Every 30 minutes across the gap: 02:00 and 02:30 collapse into the jump (which is also 03:00).
        Case(
            expression: "*/30 * * * * Europe/Berlin", from: "2026-03-28T23:59:00Z", to: "2026-03-29T02:00:00Z",
            expected: [
                "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z",
                "2026-03-29T02:00:00Z",
            ]),
        // Berlin falls back on 2026-10-25 at 03:00 CEST (01:00 UTC): 02:30 happens twice and runs once, the first time.
        Case(
            expression: "30 2 * * * Europe/Berlin", from: "2026-10-24T12:00:00Z", to: "2026-10-27T00:00:00Z",
            expected: ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
        // New York falls back on 2026-11-01 at 02:00 EDT (06:00 UTC): the repeated 01:00 and 01:30 run once each.
        Case(
            expression: "*/30 * * * * America/New_York", from: "2026-11-01T04:00:00Z", to: "2026-11-01T07:00:00Z",
            expected: [
                "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z",
            ]),
        // New York springs forward on 2026-03-08 at 02:00 EST (07:00 UTC): 02:15 runs at the jump.
        Case(
            expression: "15 2 * * * America/New_York", from: "2026-03-07T00:00:00Z", to: "2026-03-09T12:00:00Z",
            expected: ["2026-03-07T07:15:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z"]),
        // Both day fields restricted: either matches (Friday or the 13th); names for months and weekdays.
        Case(
            expression: "0 0 13 * fri", from: "2026-01-01T00:00:00Z", to: "2026-01-14T00:00:00Z",
            expected: ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"]),
        Case(
            expression: "0 12 * feb mon-tue", from: "2026-01-31T00:00:00Z", to: "2026-02-04T00:00:00Z",
            expected: ["2026-02-02T12:00:00Z", "2026-02-03T12:00:00Z"]),
        // Leap day, weekday 7 is Sunday, macros.
        Case(
            expression: "0 0 29 2 *", from: "2026-01-01T00:00:00Z", to: "2029-01-01T00:00:00Z",
            expected: ["2028-02-29T00:00:00Z"]),
        Case(
            expression: "0 6 * * 7", from: "2026-12-01T00:00:00Z", to: "2026-12-14T00:00:00Z",
            expected: ["2026-12-06T06:00:00Z", "2026-12-13T06:00:00Z"]),
        Case(
            expression: "@daily Asia/Almaty", from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z",
            expected: ["2026-12-01T19:00:00Z"]),
    ]

    @Test(arguments: cases)
    func instants(_ example: Case) throws {
        let instants = try Self.walk(example.expression, from: example.from, to: example.to)
        #expect(instants == example.expected.map(Self.utc))
    }

    @Test(arguments: cases)
    func previousIsTheInverseOfNext(_ example: Case) throws {
        let cron = try CronSchedule(example.expression)
        for instant in example.expected.map(Self.utc) {
            #expect(cron.previous(atOrBefore: instant) == instant)
            #expect(cron.previous(atOrBefore: instant.addingTimeInterval(59)) == instant)
        }
    }

    @Test(arguments: [
        ("61 * * * *", "minute"), ("* * *", "has 3 fields"), ("0 0 31 2 *", "never matches"),
        ("0 9 * * * Mars/Olympus", "unknown time zone \"Mars/Olympus\""), ("*/0 * * * *", "step"),
        ("0 5-1 * * *", "backwards"), ("@sometimes", "unknown cron macro"), ("0 0 * foo *", "month"),
    ])
    func malformedExpressionsAreRefused(_ expression: String, _ message: String) {
        #expect {
            _ = try CronSchedule(expression)
        } throws: { error in
            (error as? CronSchedule.ParseError)?.message.contains(message) == true
        }
    }

    @Test func schedulesParseFromConfigurationText() throws {
        #expect(try PeriodicSchedule.parse("every 5m") == .every(.seconds(300)))
        #expect(try PeriodicSchedule.parse("every 90") == .every(.seconds(90)))
        #expect(try PeriodicSchedule.parse("0 9 * * * Europe/Moscow").description == "0 9 * * * Europe/Moscow")
        #expect(throws: CronSchedule.ParseError.self) { try PeriodicSchedule.parse("every 0s") }
        #expect(throws: CronSchedule.ParseError.self) { try PeriodicSchedule.parse("every often") }
    }

    @Test func aCronInstantIsDueForItsLatenessOnly() throws {
        let schedule = try PeriodicSchedule.parse("0 9 * * * Europe/Moscow")
        let instant = Self.utc("2026-12-01T06:00:00Z")
        #expect(schedule.due(at: instant) == instant)
        #expect(schedule.due(at: instant.addingTimeInterval(PeriodicSchedule.cronLateness)) == instant)
        #expect(schedule.due(at: instant.addingTimeInterval(PeriodicSchedule.cronLateness + 1)) == nil)
        #expect(schedule.due(at: instant.addingTimeInterval(-1)) == nil)
        #expect(schedule.next(after: instant) == Self.utc("2026-12-02T06:00:00Z"))
    }
}
