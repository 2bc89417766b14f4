import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import Repositories
import Services
import TestSupport
import Testing

@testable import Tasks

@Suite("Domain tasks: reminders, lapsed reservations, expiry")
struct SlotTasksTests {
    struct Fixture {
        let database: Database
        let slotID: Int64
        let startsAt: Date
    }

    /// A city with a time zone, a recruiter, and one FREE slot starting in `startsIn`.
    static func fixture(startsIn: Duration = .seconds(3 * 86_400)) async throws -> Fixture {
        let database = Database(pool: try await TestDatabase.pool(), logger: Logger(label: "test"))
        let startsAt = Date().addingTimeInterval(Double(startsIn.components.seconds)).rounded()
        let slotID = try await database.withUnitOfWork { uow in
            let city = try await uow.cities.add(City(name: "Almaty", timeZone: "Asia/Almaty")).get()
            let recruiter = try await uow.recruiters.add(Recruiter(name: "Dana", telegramChatID: 7)).get()
            let slot = try await uow.slots.add(
                Slot(recruiterID: recruiter.id!, cityID: city.id!, startsAt: startsAt, durationMinutes: 30)
            ).get()
            _ = try await uow.templates.add(
                MessageTemplate(key: "reminder.24h", cityID: city.id, body: "{city}: {recruiter} at {time} on {date}")
            ).get()
            try await uow.commit()
            return slot.id!
        }
        return Fixture(database: database, slotID: slotID, startsAt: startsAt)
    }

    @Test func confirmingABookingSchedulesRemindersInTheSameTransaction() async throws {
        let fixture = try await Self.fixture()
        let booking = SlotBookingService(database: fixture.database, afterConfirm: ReminderScheduler.hook)
        _ = try await booking.book(slotID: fixture.slotID, candidateTelegramID: 555, reservationTTL: .seconds(600))
            .get()
        _ = try await booking.confirm(slotID: fixture.slotID, candidateTelegramID: 555).get()
        let rows = try await fixture.database.pool.query(
            "SELECT unique_key, run_at FROM jobs WHERE kind = $1 ORDER BY run_at",
            ["reminders.send"]
        )
        #expect(rows.count == 2)
        #expect(try rows[0].decode("unique_key", as: String.self) == "reminder:\(fixture.slotID):24h")
        let runAt = try rows[0].decode("run_at", as: Date.self)
        #expect(abs(runAt.timeIntervalSince(fixture.startsAt.addingTimeInterval(-86_400))) < 0.001)
        #expect(try rows[1].decode("unique_key", as: String.self) == "reminder:\(fixture.slotID):2h")
    }

    @Test func aFailedHookRollsBackTheConfirmationAndItsReminders() async throws {
        let fixture = try await Self.fixture()
        let booking = SlotBookingService(
            database: fixture.database,
            afterConfirm: { uow, slot in
                _ = await ReminderScheduler.schedule(uow, slot: slot)
                return .failure(.validation(field: "test", message: "forced"))
            }
        )
        _ = try await booking.book(slotID: fixture.slotID, candidateTelegramID: 555, reservationTTL: .seconds(600))
            .get()
        #expect(await booking.confirm(slotID: fixture.slotID, candidateTelegramID: 555).isFailure)
        let count = try await fixture.database.pool.query("SELECT count(*)::int8 AS n FROM jobs")
        #expect(try count[0].decode("n", as: Int.self) == 0)
        let status = try await fixture.database.withUnitOfWork { try await $0.slots.get(fixture.slotID).get().status }
        #expect(status == .reserved)
    }

    @Test func reminderIsRenderedInTheCityTimeZoneAndSentOnce() async throws {
        let fixture = try await Self.fixture()
        let booking = SlotBookingService(database: fixture.database)
        _ = try await booking.book(slotID: fixture.slotID, candidateTelegramID: 555, reservationTTL: .seconds(600))
            .get()
        _ = try await booking.confirm(slotID: fixture.slotID, candidateTelegramID: 555).get()
        let fake = try FakeTelegram()
        let sender = ReminderSender(
            database: fixture.database,
            sender: TelegramClient(apiURL: fake.url, token: "1:tok")
        )
        let payload = ReminderPayload(slotID: fixture.slotID, kind: "24h")
        #expect(try await sender.send(payload, logger: Logger(label: "t")) == .success)
        #expect(try await sender.send(payload, logger: Logger(label: "t")) == .success)
        let requests = fake.requests
        #expect(requests.count == 1)
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Almaty")
        formatter.dateFormat = "HH:mm"
        #expect(requests.first?.message.chatID == 555)
        #expect(
            requests.first?.message.text?.hasPrefix("Almaty: Dana at \(formatter.string(from: fixture.startsAt))")
                == true)
    }

    @Test func failedSendRollsBackTheRecordSoARetrySendsAgain() async throws {
        let fixture = try await Self.fixture()
        let booking = SlotBookingService(database: fixture.database)
        _ = try await booking.book(slotID: fixture.slotID, candidateTelegramID: 500, reservationTTL: .seconds(600))
            .get()
        _ = try await booking.confirm(slotID: fixture.slotID, candidateTelegramID: 500).get()
        let fake = try FakeTelegram()
        let sender = ReminderSender(database: fixture.database, sender: TelegramClient(apiURL: fake.url, token: "1:t"))
        await #expect(throws: TelegramError.self) {
            _ = try await sender.send(ReminderPayload(slotID: fixture.slotID, kind: "24h"), logger: Logger(label: "t"))
        }
        let sent = try await fixture.database.pool.query("SELECT count(*)::int8 AS n FROM sent_reminders")
        #expect(try sent[0].decode("n", as: Int.self) == 0)
    }

    @Test func blockedBotFailsPermanentlyAndFreeSlotsGetNoReminder() async throws {
        let fixture = try await Self.fixture()
        let fake = try FakeTelegram()
        let sender = ReminderSender(database: fixture.database, sender: TelegramClient(apiURL: fake.url, token: "1:t"))
        let free = try await sender.send(
            ReminderPayload(slotID: fixture.slotID, kind: "2h"), logger: Logger(label: "t"))
        #expect(free == .cancel("slot \(fixture.slotID) is FREE; no reminder"))
        let booking = SlotBookingService(database: fixture.database)
        _ = try await booking.book(slotID: fixture.slotID, candidateTelegramID: 403, reservationTTL: .seconds(600))
            .get()
        _ = try await booking.confirm(slotID: fixture.slotID, candidateTelegramID: 403).get()
        await #expect(throws: JobError.self) {
            _ = try await sender.send(ReminderPayload(slotID: fixture.slotID, kind: "2h"), logger: Logger(label: "t"))
        }
        await #expect(throws: JobError.permanent("unknown reminder kind \"1w\"")) {
            _ = try await sender.send(ReminderPayload(slotID: fixture.slotID, kind: "1w"), logger: Logger(label: "t"))
        }
    }
}

extension Date {
    /// Whole seconds, so values survive the database's microsecond precision unchanged.
    func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded()) }
}
