import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import Repositories
import Services
import Tasks

/// `slot-worker demo-seed`: loads demo data through the real services, so `scripts/demo` shows every task at work:
/// cities in three time zones, recruiters, a week of slots, reservations that lapse within a minute (released by
/// `slots.release_lapsed`), slots already in the past (expired by `slots.expire_past`), confirmed bookings whose
/// 2-hour reminder is due a minute after start (sent by `reminders.send`, logged when no bot token is set), and a
/// few diagnostic jobs (one fails for good, so a dead job shows up in metrics).
public enum DemoSeeder {
    public static func seed(databaseURL: String, logger: Logger) async throws -> String {
        let pool = PostgresPool(configuration: try PostgresConfiguration(databaseURL), logger: logger)
        let database = Database(pool: pool, logger: logger)
        let now = Date()
        let hour = 3600.0
        let base = (now.timeIntervalSince1970 / 60).rounded(.up) * 60  // whole minutes

        let (cities, recruiters) = try await database.withUnitOfWork { uow in
            var cities: [City] = []
            for (name, zone) in [
                ("Almaty", "Asia/Almaty"), ("Moscow", "Europe/Moscow"), ("Novosibirsk", "Asia/Novosibirsk"),
            ] {
                cities.append(try await uow.cities.add(City(name: name, timeZone: zone)).get())
            }
            var recruiters: [Recruiter] = []
            for (index, name) in ["Aigerim", "Boris", "Svetlana", "Timur"].enumerated() {
                let recruiter = try await uow.recruiters.add(Recruiter(name: name, telegramChatID: 1000 + Int64(index)))
                    .get()
                _ = try await uow.recruiters.assignCity(recruiterID: recruiter.id!, cityID: cities[index % 3].id!).get()
                recruiters.append(recruiter)
            }
            _ = try await uow.templates.add(
                MessageTemplate(
                    key: "reminder.2h", cityID: cities[0].id, body: "Almaty: interview at {time} with {recruiter}.")
            ).get()
            try await uow.commit()
            return (cities, recruiters)
        }

        // A week of slots: every recruiter, every 3 hours, plus (written directly: publishing refuses the past)
        // one that already started per recruiter, for `slots.expire_past`.
        var slots: [Slot] = []
        var past: [Slot] = []
        for (index, recruiter) in recruiters.enumerated() {
            let city = cities[index % 3]
            for step in 1...56 {
                slots.append(
                    Slot(
                        recruiterID: recruiter.id!,
                        cityID: city.id!,
                        startsAt: Date(timeIntervalSince1970: base + Double(step) * 3 * hour + Double(index) * 60),
                        durationMinutes: 45
                    )
                )
            }
            past.append(
                Slot(
                    recruiterID: recruiter.id!,
                    cityID: city.id!,
                    startsAt: Date(timeIntervalSince1970: base - hour - Double(index) * 60),
                    durationMinutes: 30
                )
            )
        }
        let published = try await SlotPublishingService(database: database).publish(slots).get()
        try await database.withUnitOfWork { uow in
            _ = try await uow.slots.addMany(past).get()
            try await uow.commit()
        }
        let upcoming = published.filter { $0.startsAt > now }

        // Reservations that lapse in 30 s; confirmed bookings with reminders scheduled in the same transaction.
        let booking = SlotBookingService(database: database)
        for (offset, slot) in upcoming.prefix(5).enumerated() {
            _ = try await booking.book(
                slotID: slot.id!, candidateTelegramID: 5000 + Int64(offset), reservationTTL: .seconds(30)
            ).get()
        }
        var confirmed = 0
        for (offset, slot) in upcoming.dropFirst(5).prefix(10).enumerated() {
            let candidate = 6000 + Int64(offset)
            _ = try await booking.book(slotID: slot.id!, candidateTelegramID: candidate, reservationTTL: .seconds(900))
                .get()
            _ = try await booking.confirm(slotID: slot.id!, candidateTelegramID: candidate).get()
            confirmed += 1
        }
        // Two reminders due one minute from now (a slot starting in 2 h 1 min).
        let soon = try await database.withUnitOfWork { uow in
            let slot = try await uow.slots.add(
                Slot(
                    recruiterID: recruiters[0].id!,
                    cityID: cities[0].id!,
                    startsAt: Date(timeIntervalSince1970: base + 2 * hour + 60 + 7),
                    durationMinutes: 30
                )
            ).get()
            try await uow.commit()
            return slot
        }
        _ = try await booking.book(slotID: soon.id!, candidateTelegramID: 7001, reservationTTL: .seconds(900)).get()
        _ = try await booking.confirm(slotID: soon.id!, candidateTelegramID: 7001).get()

        var diagnostics = (0..<200).map { _ in NewJob(kind: "noop") }
        diagnostics.append(NewJob(kind: "sleep", json: #"{"milliseconds": 1500}"#))
        diagnostics.append(
            NewJob(kind: "fail", json: #"{"message": "demo: a job that fails for good", "permanent": true}"#))
        diagnostics.append(NewJob(kind: "noop", schedule: .after(.seconds(20))))
        _ = try await JobQueueClient(database: database).enqueue(diagnostics).get()
        await pool.close()
        return
            "demo data: \(cities.count) cities, \(recruiters.count) recruiters, \(published.count + past.count + 1) slots, "
            + "5 reservations lapsing in 30 s, \(confirmed + 1) confirmed bookings with reminders, "
            + "\(diagnostics.count) diagnostic jobs"
    }
}
