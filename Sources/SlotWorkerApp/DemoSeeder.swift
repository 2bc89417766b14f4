import Domain
import Foundation
import JobQueue
public import Logging
import Persistence
import PostgresClient
import Repositories
import Services
import Tasks

/// `slot-worker demo-seed`: loads demo data through the real services (and, for some bookings, plain SQL as the
/// backend writes it), so `scripts/demo` shows every task at work within its first minute: cities in three time
/// zones, recruiters, a week of slots, reservations already lapsed (released by `slots.release_lapsed` at start)
/// and lapsing in 30 s, slots already in the past (expired by `slots.expire_past` at start), bookings whose
/// reminders fall due 15–45 s after seeding (planned by `reminders.plan`, sent by `reminders.send`, logged with
/// chat id and full text when no bot token is set), and a few diagnostic jobs (one fails for good, so a dead job
/// shows up in metrics).
public enum DemoSeeder {
    public static func seed(configuration: SlotWorkerConfiguration, logger: Logger) async throws -> String {
        let pool = PostgresPool(
            configuration: try configuration.postgresConfiguration(), options: configuration.poolOptions(),
            logger: logger)
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

        // Reservations: two lapsed a minute ago (released as soon as the worker starts), three lapse in 30 s.
        let booking = SlotBookingService(database: database)
        var lapsed: [Int64] = []
        for (offset, slot) in upcoming.prefix(5).enumerated() {
            _ = try await booking.book(
                slotID: slot.id!, candidateTelegramID: 5000 + Int64(offset), reservationTTL: .seconds(30)
            ).get()
            if offset < 2 { lapsed.append(slot.id!) }
        }
        _ = try await pool.query(
            "UPDATE slots SET reserved_until = now() - interval '1 minute' WHERE id = ANY($1::int8[])", [lapsed])
        // Confirmed bookings later in the week: their reminders are planned when they fall within the horizon.
        var confirmed = 0
        for (offset, slot) in upcoming.dropFirst(5).prefix(10).enumerated() {
            let candidate = 6000 + Int64(offset)
            _ = try await booking.book(slotID: slot.id!, candidateTelegramID: candidate, reservationTTL: .seconds(900))
                .get()
            _ = try await booking.confirm(slotID: slot.id!, candidateTelegramID: candidate).get()
            confirmed += 1
        }
        // Bookings written by plain SQL, as the backend writes them, whose reminders fall due within the first
        // minute: 2-hour reminders in 15, 25 and 35 s (three cities), a 24-hour one in 45 s.
        let soon: [(recruiter: Int, city: Int, candidate: Int64, name: String, startsIn: Double)] = [
            (0, 0, 7001, "Aruzhan", 2 * hour + 15), (1, 1, 7002, "Ivan", 2 * hour + 25),
            (2, 2, 7003, "Olga", 2 * hour + 35), (3, 0, 7004, "Daniyar", 24 * hour + 45),
        ]
        for booking in soon {
            _ = try await pool.query(
                "INSERT INTO users (telegram_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [booking.candidate, booking.name])
            _ = try await pool.query(
                """
                INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                VALUES ($1, $2, now() + $3 * interval '1 second', 45, 'CONFIRMED', $4)
                """,
                [recruiters[booking.recruiter].id!, cities[booking.city].id!, booking.startsIn, booking.candidate])
        }

        var diagnostics = (0..<200).map { _ in NewJob(kind: "noop") }
        diagnostics.append(NewJob(kind: "sleep", json: #"{"milliseconds": 1500}"#))
        diagnostics.append(
            NewJob(kind: "fail", json: #"{"message": "demo: a job that fails for good", "permanent": true}"#))
        diagnostics.append(NewJob(kind: "noop", schedule: .after(.seconds(20))))
        _ = try await JobQueueClient(database: database).enqueue(diagnostics).get()
        await pool.close()
        return
            "demo data: \(cities.count) cities, \(recruiters.count) recruiters, "
            + "\(published.count + past.count + soon.count) slots (\(past.count) already past, expired at start), "
            + "5 reservations (2 lapsed, released at start; 3 lapsing in 30 s), \(confirmed + soon.count) bookings "
            + "(\(soon.count) written by SQL with reminders due in 15-45 s; messages are logged with chat id and text "
            + "when no bot token is set), \(diagnostics.count) diagnostic jobs"
    }
}
