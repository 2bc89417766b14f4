import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("the console in a real browser")
    struct ConsoleBrowser {
        /// Headless Chromium, driven over the DevTools protocol by `console_browser.py`, against a real worker and
        /// PostgreSQL: every page loads without console errors, a filter narrows the job list, a dead job (whose
        /// error is hostile HTML) is retried and runs, the default queue is paused (a job enqueued meanwhile is not
        /// claimed) and resumed. Screenshots of each page go to the folder printed at the end.
        @Test func consolePagesAndActionsInChromium() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let token = "browser-test-token"
            let screenshots = FileManager.default.temporaryDirectory
                .appendingPathComponent("slotworker-console-screenshots-\(Int(Date().timeIntervalSince1970))").path
            try await WorkerScope.with { scope in
                let batch = (0..<5).map { _ in #"{"kind":"noop"}"# }
                let enqueued = try await scope.command(
                    ["enqueue", "--from", "-"], databaseURL: url, stdin: batch.joined(separator: "\n"))
                #expect(enqueued.status == 0, "stderr: \(enqueued.stderr)")
                // A booking written as the backend writes it: its 2 h reminder falls due in 30 minutes, so the
                // planner lists it on the reminders page.
                _ = try await probe.query(
                    """
                    WITH city AS (INSERT INTO cities (name, time_zone) VALUES ('Berlin', 'Europe/Berlin') RETURNING id),
                    recruiter AS (INSERT INTO recruiters (name) VALUES ('Anna') RETURNING id)
                    INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                    SELECT recruiter.id, city.id, now() + interval '150 minutes', 30, 'BOOKED', 4242
                    FROM city, recruiter
                    """)
                let worker = try await scope.startWorker(
                    databaseURL: url,
                    environment: [
                        "SLOT_WORKER_CONSOLE_ADMIN_TOKEN": token, "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                    ])
                try await waitFor("the noop jobs ran", timeout: .seconds(30)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'succeeded'") == 5
                }
                try await waitFor("the booking's reminder is planned", timeout: .seconds(30)) {
                    try await probe.int("SELECT count(*) FROM reminders WHERE state = 'planned'") == 1
                }
                // One of them died, with an error that is hostile HTML (it must render as text, not run).
                _ = try await probe.query(
                    """
                    UPDATE jobs SET state = 'dead', last_error = '<img src=x onerror="console.error(1)"> boom'
                    WHERE id = (SELECT min(id) FROM jobs WHERE kind = 'noop')
                    """)
                let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                    .appendingPathComponent("console_browser.py").path
                let browser = try WorkerProcess.start(
                    [
                        "python3", script, "http://127.0.0.1:\(worker.port)", token, screenshots,
                        try WorkerProcess.binary,
                    ],
                    // The python3 scripts/test installed websocket-client for (the first on PATH), and the real HOME.
                    environment: [
                        "DATABASE_URL": url, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                        "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
                    ],
                    executable: "/usr/bin/env"
                )
                let output = try await browser.finish(timeout: .seconds(120))
                print("console browser test: \(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
                #expect(output.status == 0, "stdout: \(output.stdout)\nstderr: \(output.stderr.suffix(3000))")
                #expect(output.stdout.contains("OK: screenshots in \(screenshots)"))
                let stopped = try await worker.terminate()
                #expect(stopped.status == 0, "stderr: \(stopped.stderr.suffix(2000))")
            }
            let shots = try FileManager.default.contentsOfDirectory(atPath: screenshots).filter { $0.hasSuffix(".png") }
            #expect(shots.count >= 10, "screenshots: \(shots)")
            await probe.close()
        }
    }
}
