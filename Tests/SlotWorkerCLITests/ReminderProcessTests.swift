import Foundation
import PostgresClient
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension WorkerProcessTests {
    @Suite("reminders")
    struct Reminders {
        /// A booked slot written by plain SQL, with a city and recruiter; returns the slot id.
        static func seedBooking(_ probe: Probe, candidate: Int64, startsIn seconds: Double) async throws -> Int64 {
            let city = try await probe.ids(
                "INSERT INTO cities (name, time_zone) VALUES ('Berlin', 'Europe/Berlin') RETURNING id")[0]
            let recruiter = try await probe.ids("INSERT INTO recruiters (name) VALUES ('Dana') RETURNING id")[0]
            return try await probe.ids(
                """
                INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                VALUES ($1, $2, now() + $3 * interval '1 second', 30, 'BOOKED', $4) RETURNING id
                """, [recruiter, city, seconds, candidate])[0]
        }

        /// Killed between Telegram's answer and the record of it: the message is sent again by the next worker
        /// (at-least-once), never lost. The test holds the reminder's row lock when the fake answers, so the
        /// worker is stuck exactly in that window when it is killed (SIGKILL), and its blocked statement is
        /// discarded with its backend.
        @Test func aWorkerKilledBetweenTheAnswerAndTheRecordSendsAgainNeverLoses() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let gate = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)")
            let fake = try FakeTelegram(rules: [4242: ["gate:\(gate.path)", "200"]])
            defer { try? FileManager.default.removeItem(at: gate) }
            let environment = [
                "SLOT_WORKER_REMINDERS_OFFSETS": "17s",
                "SLOT_WORKER_REMINDERS_GRACE": "60s",
                "SLOT_WORKER_TELEGRAM_BOT_TOKEN": "123:SECRET",
                "SLOT_WORKER_TELEGRAM_API_URL": fake.url.absoluteString,
                "SLOT_WORKER_WORKER_LEASE_SECONDS": "3",
                "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
            ]
            let slot = try await Self.seedBooking(probe, candidate: 4242, startsIn: 20)  // due in 3 s
            try await WorkerScope.with { scope in
                let doomed = try await scope.startWorker(databaseURL: url, environment: environment)
                try await waitFor("the request reached the fake", timeout: .seconds(30), every: .milliseconds(20)) {
                    fake.requests(to: 4242).count == 1
                }
                try await probe.pool.withConnection { connection in
                    try await connection.execute("BEGIN")
                    _ = try await connection.query(
                        "SELECT id FROM reminders WHERE slot_id = $1 FOR UPDATE", [slot])
                    _ = FileManager.default.createFile(atPath: gate.path, contents: Data())  // the fake answers now
                    try await waitFor("the worker waits to record the answer", timeout: .seconds(30)) {
                        try await probe.int(
                            """
                            SELECT count(*) FROM pg_stat_activity
                            WHERE datname = current_database() AND wait_event_type = 'Lock'
                            AND query LIKE 'UPDATE reminders SET state = ''sent''%'
                            """) == 1
                    }
                    doomed.running.signal(SIGKILL)
                    _ = try await doomed.running.finish(timeout: .seconds(10))
                    // The killed process's statement already reached its backend, which would still run it once
                    // the lock is free; end that backend too, so the record is lost as in a crash before it was
                    // sent.
                    _ = try await probe.query(
                        """
                        SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock'
                            AND query LIKE 'UPDATE reminders SET state = ''sent''%'
                        """)
                    try await connection.execute("ROLLBACK")
                }
                #expect(
                    try await probe.strings("SELECT state FROM reminders WHERE slot_id = $1", [slot]) == ["sending"])

                let next = try await scope.startWorker(databaseURL: url, environment: environment)
                try await waitFor("the reminder was sent again", timeout: .seconds(60), every: .milliseconds(100)) {
                    try await probe.strings("SELECT state FROM reminders WHERE slot_id = $1", [slot]) == ["sent"]
                }
                let output = try await next.terminate()
                #expect(!output.stderr.contains("SECRET") && !doomed.stderr.contains("SECRET"))
            }
            #expect(fake.requests(to: 4242).count == 2)
            #expect(
                try await probe.int("SELECT attempts FROM reminders WHERE slot_id = $1", [slot]) == 2)
            #expect(try await probe.int("SELECT message_id FROM reminders WHERE slot_id = $1", [slot]) == 2)
            await probe.close()
        }

        /// The domain metrics as Prometheus scrapes them: every label set of the configured offsets starts at 0,
        /// and a sent reminder, an unreachable candidate and an expired slot move theirs.
        @Test func remindersTelegramAndSlotMetricsAreExposed() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let fake = try FakeTelegram(rules: [403: ["403"]])
            let environment = [
                "SLOT_WORKER_REMINDERS_OFFSETS": "5s",
                "SLOT_WORKER_TELEGRAM_BOT_TOKEN": "123:SECRET",
                "SLOT_WORKER_TELEGRAM_API_URL": fake.url.absoluteString,
                "SLOT_WORKER_TASKS_SLOT_STATS_EVERY_SECONDS": "1",
            ]
            let slot = try await Self.seedBooking(probe, candidate: 1, startsIn: 7)
            _ = try await probe.query(
                """
                INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                SELECT recruiter_id, city_id, starts_at + interval '1 second', 30, 'BOOKED', 403 FROM slots WHERE id = $1
                UNION ALL
                SELECT recruiter_id, city_id, now() - interval '1 hour', 30, 'FREE', NULL FROM slots WHERE id = $1
                """, [slot])
            try await WorkerScope.with { scope in
                let worker = try await scope.startWorker(databaseURL: url, environment: environment)
                func value(_ metric: String, _ labels: [String: String]) async throws -> Double? {
                    let text = try await worker.get("/metrics").body
                    return samples(of: metric, in: text).first { sample in
                        labels.allSatisfy { sample.0[$0.key] == $0.value }
                    }?.1
                }
                #expect(
                    try await value("slotworker_reminders_skipped_total", ["offset": "5s", "reason": "moved"]) == 0)
                #expect(
                    try await value("slotworker_reminders_failed_total", ["offset": "5s", "class": "timeout"]) == 0)
                #expect(try await value("slotworker_telegram_requests_total", ["code": "429"]) == 0)
                try await waitFor("both reminders finished", timeout: .seconds(30), every: .milliseconds(200)) {
                    let sent = try await value("slotworker_reminders_sent_total", ["offset": "5s"])
                    let failed = try await value(
                        "slotworker_reminders_failed_total", ["offset": "5s", "class": "unreachable"])
                    return sent == 1 && failed == 1
                }
                #expect(try await value("slotworker_reminder_lag_seconds_count", ["offset": "5s"]) == 1)
                #expect(
                    try await value("slotworker_telegram_requests_total", ["code": "200", "method": "sendMessage"]) == 1
                )
                #expect(try await value("slotworker_telegram_requests_total", ["code": "403"]) == 1)
                #expect(
                    try await value("slotworker_telegram_request_duration_seconds_count", ["method": "sendMessage"])
                        == 2)
                #expect(
                    try await value(
                        "slotworker_slot_transitions_total", ["from": "FREE", "to": "EXPIRED", "reason": "past"])
                        == 1)
                try await waitFor("slots sampled", timeout: .seconds(10)) {
                    let booked = try await value("slotworker_slots", ["status": "BOOKED"])
                    let expired = try await value("slotworker_slots", ["status": "EXPIRED"])
                    return booked == 2 && expired == 1
                }
                let output = try await worker.terminate()
                #expect(!output.stderr.contains("SECRET"))
            }
            await probe.close()
        }

        @Test func templatesCheckListsBrokenTemplatesAndExitsNonZero() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                _ = try await Self.seedBooking(probe, candidate: 1, startsIn: 3600)
                let clean = try await scope.command(["templates", "check"], databaseURL: url)
                #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
                _ = try await probe.query(
                    "INSERT INTO message_templates (key, city_id, body) SELECT 'reminder.2h', id, 'At {tim}' FROM cities"
                )
                _ = try await probe.query("DELETE FROM message_templates WHERE key IN ('reminder.24h', 'reminder')")
                let broken = try await scope.command(["templates", "check"], databaseURL: url)
                #expect(broken.status == 1)
                #expect(
                    broken.stdout.contains("reminder.2h [city Berlin]: unknown placeholder {tim}"), "\(broken.stdout)")
                #expect(broken.stdout.contains("reminder.24h [city Berlin]: missing"), "\(broken.stdout)")
            }
            await probe.close()
        }

        @Test(arguments: [
            ("SLOT_WORKER_REMINDERS_OFFSETS", "24h,soon", "reminders.offsets"),
            ("SLOT_WORKER_REMINDERS_GRACE", "15 minutes", "reminders.grace"),
            ("SLOT_WORKER_REMINDERS_PLANNER_PERIOD", "1500ms", "reminders.planner_period"),
            ("SLOT_WORKER_REMINDERS_PLANNER_HORIZON", "30s", "reminders.planner_horizon"),
            ("SLOT_WORKER_REMINDERS_RETENTION", "10m", "reminders.retention"),
            ("SLOT_WORKER_TELEGRAM_MAX_MESSAGES_PER_SECOND", "-3", "telegram.max_messages_per_second"),
            ("SLOT_WORKER_TELEGRAM_TIMEOUT", "forever", "telegram.timeout"),
            ("SLOT_WORKER_TASKS_NOTIFY_LAPSED_RESERVATIONS", "maybe", "tasks.notify_lapsed_reservations"),
        ])
        func badReminderSettingsStopTheWorkerNamingKeyAndValue(variable: String, value: String, key: String)
            async throws
        {
            let output = try await WorkerProcess.run(
                ["run", "--http-port", "0"],
                environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none", variable: value],
                timeout: .seconds(30))
            #expect(output.status != 0)
            #expect(output.stderr.contains(key) && output.stderr.contains(variable), "\(output.stderr)")
            #expect(output.stderr.contains(value.components(separatedBy: ",").last!), "\(output.stderr)")
        }
    }
}
