import Domain
import Foundation
import HTTPServer
import JobQueue
import Persistence
import PostgresClient
import ServiceLifecycle
import SlotWorkerApp
import Synchronization
import Tasks

/// `reminders --reminders N --rate R`: N BOOKED slots (N chats) written by one SQL statement, whose 2-hour
/// reminders all fall due within the same second, 5 s after the insert; two in-process workers with the shipped
/// defaults (concurrency 1,000, of which jobs that use the database 10, the pool's size; pool 10, LISTEN on) plan and send them to a local fake Bot API (libmicrohttpd,
/// answering 200) with `telegram.max_messages_per_second` raised to R. Figures: `reminders-throughput`
/// (reminders sent per second, from the due time to the last send) and `reminders-lag-p99` (sent − due; the
/// issue's goal is 2 s for reminders not held back by the rate limit), plus the p50.
enum ReminderBench {
    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let count = arguments.int("reminders", default: 10_000)
        let rate = arguments.double("rate") ?? 100_000
        let name = "slotworker_bench_reminders"
        let configuration = try await QueueBench.freshDatabase(name, server: server)
        let answered = Atomic<Int>(0)
        let fake = HTTPServer(
            configuration: HTTPServerConfiguration(connectionLimit: 1024, perIPConnectionLimit: 1024),
            logger: QueueBench.logger
        ) { _ in
            let id = answered.add(1, ordering: .relaxed).newValue
            return HTTPResponse(status: 200, body: Array(#"{"ok":true,"result":{"message_id":\#(id)}}"#.utf8))
        }
        let port = try fake.start()
        let settings = ReminderSettings(
            offsets: [ReminderOffset(seconds: 7200)], maxMessagesPerSecond: rate)
        let sender = TelegramClient(apiURL: URL(string: "http://127.0.0.1:\(port)")!, token: "1:bench")
        var services: [any Service] = [fake]
        var pools: [PostgresPool] = []
        for _ in 0..<2 {
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 10))
            pools.append(pool)
            let database = Database(pool: pool, logger: QueueBench.logger)
            var registry = JobRegistry()
            SlotTasks.register(in: &registry, database: database, sender: sender, settings: settings)
            let worker = JobQueueWorker(
                database: database, registry: registry,
                configuration: JobRunnerConfiguration(concurrency: SlotWorkerConfiguration.defaultConcurrency),
                periodicJobs: try SlotTasks.periodicJobs(
                    release: .every(.seconds(60)), expire: .every(.seconds(300)), settings: settings),
                logger: QueueBench.logger)
            services += worker.services
            services.append(
                ReminderPlanner.WakeUps(
                    planner: ReminderPlanner(database: database, settings: settings),
                    listenConfiguration: configuration, logger: QueueBench.logger))
        }
        let probe = pools[0]
        _ = try await probe.query(
            """
            WITH c AS (INSERT INTO cities (name, time_zone) VALUES ('Berlin', 'Europe/Berlin') RETURNING id),
                 r AS (INSERT INTO recruiters (name) VALUES ('Dana') RETURNING id)
            SELECT 1 FROM c, r
            """)
        let group = ServiceGroup(services: services, logger: QueueBench.logger)
        let figures = try await QueueBench.bounded(by: .seconds(600), onTimeout: {}) { () async throws -> [Double] in
            try await withThrowingTaskGroup(of: [Double]?.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return nil
                }
                try await Task.sleep(for: .seconds(1))
                // Due 5 s from now, spread over one second; distinct recruiters' slots may share an instant.
                _ = try await probe.query(
                    """
                    INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                    SELECT (SELECT id FROM recruiters), (SELECT id FROM cities),
                           now() + interval '2 hours 5 seconds' + i * (interval '1 second' / $1), 30, 'BOOKED', 100000 + i
                    FROM generate_series(0, $1 - 1) AS i
                    """, [count])
                QueueBench.log("reminders: \(count) bookings inserted, due in 5 s")
                let deadline = ContinuousClock.now + .seconds(540)
                while ContinuousClock.now < deadline {
                    let sent = try await probe.query("SELECT count(*)::int8 AS n FROM reminders WHERE state = 'sent'")[
                        0
                    ]
                    .decode("n", as: Int.self)
                    if sent >= count { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let row = try await probe.query(
                    """
                    SELECT count(*)::int8 AS n,
                           extract(epoch FROM max(sent_at) - min(due_at))::float8 AS span,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - due_at))::float8 AS p50,
                           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - due_at))::float8 AS p99
                    FROM reminders WHERE state = 'sent'
                    """)[0]
                await group.triggerGracefulShutdown()
                let sent = try row.decode("n", as: Int.self)
                QueueBench.log(
                    "reminders: \(sent) sent, \(answered.load(ordering: .relaxed)) requests answered by the fake")
                guard sent == count else { throw BenchFailure("reminders: only \(sent) of \(count) were sent") }
                let figures: [Double] = [
                    Double(sent) / max(0.001, try row.decode("span", as: Double.self)),
                    try row.decode("p50", as: Double.self), try row.decode("p99", as: Double.self),
                ]
                try await tasks.waitForAll()
                return figures
            }
        }
        for pool in pools { await pool.close() }
        await QueueBench.dropDatabase(name, server: server)
        guard figures.count == 3 else { throw BenchFailure("reminders: no figures") }
        BenchFigure(bench: "reminders-throughput", value: figures[0], unit: "reminders/s").print()
        BenchFigure(bench: "reminders-lag-p50", value: figures[1], unit: "s").print()
        BenchFigure(bench: "reminders-lag-p99", value: figures[2], unit: "s", baseline: 2, higherIsBetter: false)
            .print()
    }
}
