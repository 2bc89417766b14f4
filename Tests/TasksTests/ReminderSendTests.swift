import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import Repositories
import TestSupport
import Testing

@testable import Tasks

/// The send handler called directly with an injected clock: Bot API answers, templates, time zones.
@Suite("Reminder sending: Bot API answers, templates, time zones")
struct ReminderSendTests {
    /// Plans the harness's reminders at `now` and returns the planned ids in due order.
    static func plan(_ harness: Harness, settings: ReminderSettings, now: Date) async throws -> [Int64] {
        let planner = ReminderPlanner(database: harness.database, settings: settings, now: { now })
        try await planner.plan()
        return try await harness.database.pool.query(
            "SELECT id FROM reminders WHERE state = 'planned' ORDER BY due_at, id"
        ).map { try $0.decode("id", as: Int64.self) }
    }

    static func sender(
        _ harness: Harness, fake: FakeTelegram, settings: ReminderSettings, observer: RecordingObserver,
        now: @escaping @Sendable () -> Date, timeout: Duration = .seconds(5)
    ) -> ReminderSender {
        let client = TelegramClient(
            apiURL: fake.url, token: "123:SECRET", timeout: timeout,
            observe: { method, status, duration in
                observer.telegramRequest(method: method, status: status, duration: duration)
            })
        return ReminderSender(
            database: harness.database,
            delivery: TelegramDelivery(database: harness.database, sender: client, settings: settings),
            settings: settings, observer: observer, now: now)
    }

    static func state(_ harness: Harness, _ id: Int64) async throws -> String {
        let row = try await harness.database.pool.query(
            "SELECT state, coalesce(reason, '') AS reason FROM reminders WHERE id = $1", [id])[0]
        return "\(try row.decode("state", as: String.self)) \(try row.decode("reason", as: String.self))"
            .trimmingCharacters(in: .whitespaces)
    }

    @Test func botAPIAnswersDecideRetriesSnoozesAndUnreachableCandidates() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram(rules: [
            429: ["429:2", "200"], 403: ["403"], 400: ["400"], 500: ["500", "200"], 413: ["400:long"],
        ])
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [60], horizon: .seconds(120))
        let start = Date().addingTimeInterval(3600).wholeMilliseconds
        for (index, chat) in [429, 403, 400, 500, 413].enumerated() {
            try await harness.insertSlot(startsAt: start.addingTimeInterval(Double(index)), candidate: Int64(chat))
        }
        // A later slot of the blocked candidate: skipped once they are known unreachable.
        try await harness.insertSlot(startsAt: start.addingTimeInterval(600), candidate: 403)
        let due = start.addingTimeInterval(-60)
        let ids = try await Self.plan(harness, settings: settings, now: due.addingTimeInterval(-5))
        #expect(ids.count == 5)  // the later slot's reminder is not within the horizon yet
        let sender = Self.sender(
            harness, fake: fake, settings: settings, observer: observer, now: { due.addingTimeInterval(5) })

        // 429: snoozed for retry_after, attempt not spent; every worker then waits and sends slower.
        #expect(try await sender.run(ReminderJob(reminderID: ids[0]), context: context()) == .snooze(.seconds(2)))
        #expect(try await Self.state(harness, ids[0]) == "planned")
        let slowdown = try await harness.database.pool.query(
            "SELECT slowdown, next_at > clock_timestamp() + interval '1 second' AS later FROM telegram_send_limits")[0]
        #expect(try slowdown.decode("slowdown", as: Double.self) >= 1.9)
        #expect(try slowdown.decode("later", as: Bool.self))
        try await harness.execute("UPDATE telegram_send_limits SET next_at = '-infinity', slowdown = 1")
        try await harness.execute("DELETE FROM telegram_chat_limits")
        #expect(try await sender.run(ReminderJob(reminderID: ids[0]), context: context()) == .success)
        #expect(try await Self.state(harness, ids[0]) == "sent")

        // 403 and 400 chat not found: failed for good, the candidate is unreachable.
        for id in [ids[1], ids[2]] {
            guard case .fail(let message) = try await sender.run(ReminderJob(reminderID: id), context: context()) else {
                Issue.record("expected a permanent failure")
                continue
            }
            #expect(!message.contains("SECRET"))
            #expect(try await Self.state(harness, id) == "failed unreachable")
        }
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM unreachable_candidates") == 2)

        // 500: retried with backoff, then sent.
        guard case .retry = try await sender.run(ReminderJob(reminderID: ids[3]), context: context()) else {
            Issue.record("expected a retry")
            return
        }
        #expect(try await Self.state(harness, ids[3]) == "planned")
        try await harness.execute("DELETE FROM telegram_chat_limits")
        #expect(try await sender.run(ReminderJob(reminderID: ids[3]), context: context(attempt: 2)) == .success)

        // Another 400 (message too long): failed for good, the candidate stays reachable.
        guard case .fail = try await sender.run(ReminderJob(reminderID: ids[4]), context: context()) else {
            Issue.record("expected a permanent failure")
            return
        }
        #expect(try await Self.state(harness, ids[4]) == "failed rejected")

        // The blocked candidate's later reminder is skipped without a request.
        let later = try await Self.plan(harness, settings: settings, now: start.addingTimeInterval(600 - 70))
        try await harness.execute("DELETE FROM telegram_chat_limits")
        let requestsBefore = fake.requests(to: 403).count
        let laterSender = Self.sender(
            harness, fake: fake, settings: settings, observer: observer, now: { start.addingTimeInterval(600 - 60) })
        guard case .cancel = try await laterSender.run(ReminderJob(reminderID: later[0]), context: context()) else {
            Issue.record("expected a skip")
            return
        }
        #expect(try await Self.state(harness, later[0]) == "skipped unreachable")
        #expect(fake.requests(to: 403).count == requestsBefore)

        #expect(observer.count("1m", "sent") == 2)
        #expect(observer.count("1m", "failed:unreachable") == 2)
        #expect(observer.count("1m", "failed:rejected") == 1)
        #expect(observer.count("1m", "skipped:unreachable") == 1)
        #expect(observer.requests("sendMessage 429") == 1 && observer.requests("sendMessage 403") == 1)
        #expect(observer.requests("sendMessage 400") == 2 && observer.requests("sendMessage 500") == 1)
        #expect(observer.requests("sendMessage 200") == 2)
        // Transient failures that run out of attempts fail with their class.
        try await harness.insertSlot(startsAt: start.addingTimeInterval(1200), candidate: 500)
        let last = try await Self.plan(harness, settings: settings, now: start.addingTimeInterval(1200 - 70))
        try await harness.execute("DELETE FROM telegram_chat_limits")
        let failing = try FakeTelegram(rules: [500: ["500"]])
        let exhausted = Self.sender(
            harness, fake: failing, settings: settings, observer: observer,
            now: { start.addingTimeInterval(1200 - 60) })
        guard case .fail = try await exhausted.run(ReminderJob(reminderID: last[0]), context: context(attempt: 5))
        else {
            Issue.record("expected the last attempt to fail for good")
            return
        }
        #expect(observer.count("1m", "failed:server_error") == 1)
        #expect(failing.requests.count == 1)
    }

    @Test func aBotAPIThatNeverAnswersTimesOutAndHostileAnswersBreakNothing() async throws {
        let fake = try FakeTelegram(rules: [1: ["hang"], 2: ["hostile"]])
        let client = TelegramClient(apiURL: fake.url, token: "123:SECRET", timeout: .milliseconds(700))
        let started = ContinuousClock.now
        let hung = await #expect(throws: TelegramError.self) { _ = try await client.sendMessage(chatID: 1, text: "x") }
        let elapsed = ContinuousClock.now - started
        #expect(hung?.kind == .timeout)
        #expect(elapsed >= .milliseconds(650) && elapsed < .seconds(20), "timed out after \(elapsed)")
        // The hostile answer is 2 MB: give it time to arrive on a loaded machine (the timeout is not under test).
        let patient = TelegramClient(apiURL: fake.url, token: "123:SECRET", timeout: .seconds(20))
        let hostile = await #expect(throws: TelegramError.self) {
            _ = try await patient.sendMessage(chatID: 2, text: "x")
        }
        #expect(hostile?.kind == .serverError)
        let text = hostile?.description ?? ""
        #expect(!text.contains("\u{0}") && !text.contains("SECRET") && text.count < 400)
        let refused = TelegramClient(apiURL: URL(string: "http://127.0.0.1:1")!, token: "123:SECRET")
        let network = await #expect(throws: TelegramError.self) {
            _ = try await refused.sendMessage(chatID: 3, text: "x")
        }
        #expect(network?.kind == .network && !(network?.description.contains("SECRET") ?? true))
    }

    @Test func templatesPerCityAndLocaleAndErrorsNamingKeyCityAndPlaceholder() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [7200])  // 2h: the migration's default `reminder.2h`
        let start = Date().addingTimeInterval(3 * 3600).wholeMilliseconds
        let other = try await harness.database.pool.query(
            "INSERT INTO cities (name, time_zone) VALUES ('Almaty', 'Asia/Almaty') RETURNING id")[0].decode(
                "id", as: Int64.self)
        try await harness.execute("INSERT INTO users (telegram_id, name, locale) VALUES (12, 'Aigerim', 'ru')")
        try await harness.execute(
            "INSERT INTO message_templates (key, city_id, body) VALUES ('reminder.2h', $1, 'Almaty: {time} {city}')",
            [other])
        try await harness.execute(
            "INSERT INTO message_templates (key, city_id, locale, body) VALUES "
                + "('reminder.2h', $1, 'ru', '{candidate_name}, {weekday} {time}')", [other])
        try await harness.insertSlot(startsAt: start, candidate: 11)  // Berlin, default text
        try await harness.insertSlot(startsAt: start.addingTimeInterval(1), candidate: 13, cityID: other)  // override
        try await harness.insertSlot(startsAt: start.addingTimeInterval(2), candidate: 12, cityID: other)  // + ru
        let due = start.addingTimeInterval(-7200)
        let ids = try await Self.plan(harness, settings: settings, now: due.addingTimeInterval(-1))
        let sender = Self.sender(
            harness, fake: fake, settings: settings, observer: observer, now: { due.addingTimeInterval(5) })
        for id in ids { #expect(try await sender.run(ReminderJob(reminderID: id), context: context()) == .success) }
        let berlinTime = DateFormatter()
        berlinTime.timeZone = TimeZone(identifier: "Europe/Berlin")
        berlinTime.dateFormat = "yyyy-MM-dd 'at' HH:mm"
        let defaultText = fake.requests(to: 11).first?.message.text ?? ""
        #expect(
            defaultText.contains(berlinTime.string(from: start)) && defaultText.contains("2 hours"), "\(defaultText)")
        #expect(fake.requests(to: 13).first?.message.text?.hasPrefix("Almaty: ") == true)
        #expect(fake.requests(to: 12).first?.message.text?.hasPrefix("Aigerim, ") == true)

        // An unknown placeholder in the city's override: failed for good, naming key, city and placeholder.
        try await harness.execute(
            "UPDATE message_templates SET body = 'At {tme}' WHERE city_id = $1 AND locale IS NULL", [other])
        try await harness.insertSlot(startsAt: start.addingTimeInterval(3), candidate: 14, cityID: other)
        let broken = try await Self.plan(harness, settings: settings, now: due.addingTimeInterval(2))
        guard case .fail(let message) = try await sender.run(ReminderJob(reminderID: broken[0]), context: context())
        else {
            Issue.record("expected a template error")
            return
        }
        #expect(
            message.contains("reminder.2h") && message.contains("Almaty") && message.contains("{tme}"), "\(message)")
        #expect(try await Self.state(harness, broken[0]) == "skipped template_error")

        let problems = try await TemplateCheck.run(database: harness.database, settings: settings)
        #expect(problems.contains { $0.key == "reminder.2h" && $0.city == "Almaty" && $0.message.contains("{tme}") })
        #expect(problems.count == 1, "\(problems)")

        // No template at all (operators deleted them): failed for good, never a built-in text.
        try await harness.execute("DELETE FROM message_templates WHERE key IN ('reminder.2h', 'reminder')")
        try await harness.insertSlot(startsAt: start.addingTimeInterval(4), candidate: 15)
        let missing = try await Self.plan(harness, settings: settings, now: due.addingTimeInterval(3))
        guard case .fail(let text) = try await sender.run(ReminderJob(reminderID: missing[0]), context: context())
        else {
            Issue.record("expected a missing template")
            return
        }
        #expect(text.contains("reminder.2h or reminder") && text.contains("Berlin"), "\(text)")
        #expect(observer.count("2h", "skipped:template_error") == 2)
        #expect(fake.requests.count == 3)

        let missingTexts = try await TemplateCheck.run(database: harness.database, settings: settings)
        #expect(
            missingTexts.contains { $0.key == "reminder.2h" && $0.city == "Berlin" && $0.message.hasPrefix("missing") })
    }

    @Test func thePeriodicRunReEnqueuesTheJobOfAReminderWhoseJobWasLost() async throws {
        let harness = try await Harness.make()
        let settings = testSettings(offsets: [60], horizon: .seconds(120))
        let start = Date().addingTimeInterval(3600).wholeMilliseconds
        try await harness.insertSlot(startsAt: start, candidate: 31)
        let planner = ReminderPlanner(
            database: harness.database, settings: settings, now: { start.addingTimeInterval(-90) })
        #expect(try await planner.plan().planned == 1)
        let jobs = "SELECT count(*)::int8 AS n FROM jobs WHERE kind = 'reminders.send' AND state = 'scheduled'"
        #expect(try await harness.count(jobs) == 1)
        try await harness.execute(
            "UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE kind = 'reminders.send'")
        #expect(try await planner.plan().planned == 0)  // a wake-up plans, it does not repair
        #expect(try await harness.count(jobs) == 0)
        #expect(try await planner.plan(repair: true).planned == 0)
        #expect(try await harness.count(jobs) == 1)
        #expect(try await planner.plan(repair: true).planned == 0)
        #expect(try await harness.count(jobs) == 1)  // deduplicated by the unique key
    }

    @Test func interviewsAcrossThe2027SpringChangeShowTheirLocalTime() async throws {
        let harness = try await Harness.make(city: "New York", zone: "America/New_York")
        let berlin = try await harness.database.pool.query(
            "INSERT INTO cities (name, time_zone) VALUES ('Berlin', 'Europe/Berlin') RETURNING id")[0].decode(
                "id", as: Int64.self)
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [86_400])
        // 10:00 local on the day after each city's change; the 24 h reminder falls due before the change.
        let formatter = ISO8601DateFormatter()
        let cases: [(chat: Int64, start: Date, city: Int64?)] = [
            (21, formatter.date(from: "2027-03-15T14:00:00Z")!, nil),  // 10:00 EDT (UTC-4); due 09:00 EST
            (22, formatter.date(from: "2027-03-29T08:00:00Z")!, berlin),  // 10:00 CEST (UTC+2); due 09:00 CET
        ]
        for entry in cases {
            try await harness.insertSlot(startsAt: entry.start, candidate: entry.chat, cityID: entry.city)
            let due = entry.start.addingTimeInterval(-86_400)
            let ids = try await Self.plan(harness, settings: settings, now: due.addingTimeInterval(-1))
            let sender = Self.sender(harness, fake: fake, settings: settings, observer: observer, now: { due })
            #expect(try await sender.run(ReminderJob(reminderID: ids.last!), context: context()) == .success)
            let text = fake.requests(to: entry.chat).first?.message.text ?? ""
            #expect(text.contains(" at 10:00 "), "\(text)")
        }
        #expect(fake.requests(to: 21).first?.message.text?.contains("2027-03-15") == true)
        #expect(fake.requests(to: 22).first?.message.text?.contains("Monday 2027-03-29") == true)
    }
}
