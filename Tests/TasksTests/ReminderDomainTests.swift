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

@Suite("Reminder decisions, offsets and templates (no I/O)")
struct ReminderDomainTests {
    @Test func offsetsParseLongestFirstAndRejectBadValues() throws {
        #expect(try ReminderOffset.parseList("24h,2h").map(\.label) == ["24h", "2h"])
        #expect(try ReminderOffset.parseList(" 30s , 1h30m,90s").map(\.label) == ["90m", "90s", "30s"])
        for bad in ["", "24", "2h,2h", "0s", "1500ms", "5x", "h", "24h,,2h", "-1h"] {
            #expect(throws: ReminderOffset.Invalid.self, "\(bad)") { try ReminderOffset.parseList(bad) }
        }
        #expect(try DurationText.milliseconds("250ms") == 250)
        #expect(try DurationText.milliseconds("1d2h") == 93_600_000)
        #expect(throws: DurationText.Invalid.self) { try DurationText.milliseconds("99999999999999999999h") }
    }

    static let start = Date(timeIntervalSince1970: 1_900_000_000)
    static func reminder(state: Reminder.State = .planned) -> Reminder {
        Reminder(
            id: 1, slotID: 7, offset: ReminderOffset(seconds: 7200), startsAt: start,
            dueAt: start.addingTimeInterval(-7200), state: state)
    }
    static func slot(_ status: SlotStatus = .booked, startsAt: Date = start) -> ReminderDecision.SlotState {
        ReminderDecision.SlotState(status: status, startsAt: startsAt, candidateTelegramID: 42)
    }

    @Test func decisionsInOrder() {
        let due = Self.start.addingTimeInterval(-7200)
        func decide(
            _ reminder: Reminder = Self.reminder(), slot: ReminderDecision.SlotState? = Self.slot(),
            unreachable: Bool = false, at now: Date
        ) -> ReminderDecision {
            ReminderDecision.decide(
                reminder: reminder, slot: slot, candidateUnreachable: unreachable, now: now, grace: .seconds(900))
        }
        #expect(decide(at: due) == .send(chatID: 42))
        #expect(decide(slot: Self.slot(.confirmed), at: due.addingTimeInterval(899)) == .send(chatID: 42))
        #expect(decide(at: due.addingTimeInterval(901)) == .skip(.late))
        #expect(decide(at: due.addingTimeInterval(-5)) == .wait(until: due))
        #expect(decide(Self.reminder(state: .sent), at: due) == .finished)
        #expect(decide(Self.reminder(state: .sending), at: due) == .send(chatID: 42))  // at-least-once
        for status in [SlotStatus.canceled, .free, .expired, .reserved] {
            #expect(decide(slot: Self.slot(status), at: due) == .skip(.notBooked))
        }
        #expect(decide(slot: nil, at: due) == .skip(.notBooked))
        #expect(decide(slot: Self.slot(startsAt: Self.start.addingTimeInterval(60)), at: due) == .skip(.moved))
        #expect(decide(unreachable: true, at: due) == .skip(.unreachable))
        // A grace longer than the offset never sends after the interview began.
        let short = Reminder(
            id: 1, slotID: 7, offset: ReminderOffset(seconds: 60), startsAt: Self.start,
            dueAt: Self.start.addingTimeInterval(-60), state: .planned)
        #expect(decide(short, at: Self.start) == .skip(.late))
    }

    static func values(zone: String, startsAt: Date) -> MessageTemplateRenderer.Values {
        MessageTemplateRenderer.Values(
            candidateName: "Anna", city: "Berlin", timeZone: zone, recruiter: "Dana", address: "Main St 1",
            link: "https://meet/x", durationMinutes: 45, startsAt: startsAt)
    }

    @Test func everyPlaceholderRendersAndUnknownOnesFail() throws {
        // 2027-03-01 09:30 UTC = 10:30 in Berlin (CET), a Monday.
        let startsAt = try #require(ISO8601DateFormatter().date(from: "2027-03-01T09:30:00Z"))
        let text = try MessageTemplateRenderer.render(
            "{candidate_name}|{date}|{weekday}|{time}|{city}|{recruiter}|{address}|{link}|{duration}|{ }|{}|{x",
            values: Self.values(zone: "Europe/Berlin", startsAt: startsAt), locale: nil)
        #expect(text == "Anna|2027-03-01|Monday|10:30|Berlin|Dana|Main St 1|https://meet/x|45|{ }|{}|{x")
        #expect(
            try MessageTemplateRenderer.render(
                "{weekday}", values: Self.values(zone: "Europe/Berlin", startsAt: startsAt), locale: "de") == "Montag")
        let error = #expect(throws: MessageTemplateRenderer.UnknownPlaceholder.self) {
            try MessageTemplateRenderer.render(
                "Hi {candidat_name} at {time}", values: Self.values(zone: "UTC", startsAt: startsAt), locale: nil)
        }
        #expect(error?.placeholder == "candidat_name")
        #expect(MessageTemplateRenderer.unknownPlaceholders(in: "{a}{time}{a}{b_2}") == ["a", "b_2"])
    }

    @Test func timeIsTheInterviewsLocalTimeAcrossTheSpringChange() throws {
        // New York springs forward on 2027-03-14, Berlin on 2027-03-28. Interviews at 10:00 local the day after
        // the change are reminded 24 h earlier, before the change: the text must still say 10:00.
        let newYork = try #require(ISO8601DateFormatter().date(from: "2027-03-15T14:00:00Z"))  // 10:00 EDT
        let berlin = try #require(ISO8601DateFormatter().date(from: "2027-03-29T08:00:00Z"))  // 10:00 CEST
        for (zone, startsAt) in [("America/New_York", newYork), ("Europe/Berlin", berlin)] {
            let text = try MessageTemplateRenderer.render(
                "{date} {time}", values: Self.values(zone: zone, startsAt: startsAt), locale: nil)
            #expect(text.hasSuffix(" 10:00"), "\(zone): \(text)")
        }
    }

    @Test func botAPIAnswersAreClassifiedAndCleaned() throws {
        let client = TelegramClient(apiURL: URL(string: "http://127.0.0.1:1")!, token: "123:SECRET")
        func kind(_ status: Int, _ body: String) -> TelegramError? {
            do {
                _ = try client.interpret(status: status, data: Data(body.utf8))
                return nil
            } catch { return error }
        }
        #expect(try client.interpret(status: 200, data: Data(#"{"ok":true,"result":{"message_id":77}}"#.utf8)) == 77)
        #expect(kind(200, "<html>")?.kind == .invalidResponse)
        #expect(kind(429, #"{"ok":false,"parameters":{"retry_after":3}}"#)?.retryAfter == .seconds(3))
        #expect(kind(429, #"{"ok":false,"parameters":{"retry_after":999999}}"#)?.retryAfter == .seconds(3600))
        #expect(kind(403, #"{"ok":false,"description":"Forbidden: user is deactivated"}"#)?.kind == .chatUnreachable)
        #expect(kind(400, #"{"ok":false,"description":"Bad Request: chat not found"}"#)?.kind == .chatUnreachable)
        #expect(kind(400, #"{"ok":false,"description":"Bad Request: message is too long"}"#)?.kind == .rejected)
        #expect(kind(502, "")?.kind == .serverError)
        #expect(kind(302, "")?.kind == .invalidResponse)
        let hostile = kind(
            500, #"{"ok":false,"description":"x\#u{0}y 123:SECRET "# + String(repeating: "z", count: 10_000) + "\"}")
        let message = try #require(hostile?.description)
        #expect(!message.contains("\u{0}") && !message.contains("SECRET") && message.count < 400)
        #expect(TelegramClient.statusLabel(418) == "4xx" && TelegramClient.statusLabel(99) == "other")
    }
}
