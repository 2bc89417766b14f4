import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("operator commands, configuration and exit codes")
    struct OperatorCommands {
        /// Bad usage and bad configuration exit 2 naming the key (and variable) and the value; `config show` names
        /// each value's source and never prints a secret; `*_FILE` variables supply secrets.
        @Test func configurationErrorsExitTwoAndConfigShowRedactsSecrets() async throws {
            let url = "postgresql://operator:hunter2-secret@127.0.0.1:1/db"
            let refusals: [([String], [String: String], String)] = [
                (["config", "show"], [:], "database.url (DATABASE_URL): is required"),
                (
                    ["config", "show"], ["DATABASE_URL": url, "SLOT_WORKER_HTTP_PORT": "abc"],
                    #"http.port (SLOT_WORKER_HTTP_PORT): "abc" is not an integer"#
                ),
                (
                    ["config", "show"], ["DATABASE_URL": url, "SLOT_WORKER_WORKER_DATABASE_CONCURRENCY": "0"],
                    "worker.database_concurrency (SLOT_WORKER_WORKER_DATABASE_CONCURRENCY): 0 is outside 1...10000"
                ),
                (
                    ["config", "show"], ["DATABASE_URL": url, "SLOT_WORKER_WORKER_LISTEN": "maybe"],
                    #""maybe" is not a boolean"#
                ),
                (
                    ["config", "show", "--log-format", "xml"], ["DATABASE_URL": url],
                    #"log.format (SLOT_WORKER_LOG_FORMAT): "xml" is not one of text, json"#
                ),
                (
                    ["config", "show"], ["DATABASE_URL": url, "SLOT_WORKER_TASKS_EXPIRE_PAST_SCHEDULE": "0 25 * * *"],
                    #"tasks.expire_past.schedule (SLOT_WORKER_TASKS_EXPIRE_PAST_SCHEDULE): "0 25 * * *": cron hour field"#
                ),
                (
                    ["config", "show"], ["DATABASE_URL_FILE": "/nonexistent/secret"],
                    "cannot read DATABASE_URL_FILE file /nonexistent/secret"
                ),
                (["jobs", "list", "--state", "done"], ["DATABASE_URL": url], #"--state "done" is not one of"#),
                (["jobs", "retry"], ["DATABASE_URL": url], "jobs retry needs job ids or a filter"),
                (["jobs", "frobnicate"], ["DATABASE_URL": url], "Unexpected argument 'frobnicate'"),
                (["enqueue", "noop", "--payload", "{"], ["DATABASE_URL": url], "--payload is not valid JSON"),
            ]
            for (arguments, environment, message) in refusals {
                let output = try await WorkerProcess.run(arguments, environment: environment)
                #expect(output.status == 2, "\(arguments) \(environment): \(output.stderr)")
                #expect(output.stderr.contains(message), "\(arguments): \(output.stderr)")
                #expect(!output.stderr.contains("hunter2"))
            }

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotworker-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let tokenFile = directory.appendingPathComponent("bot-token")
            try "123:bot-secret-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
            let configFile = directory.appendingPathComponent("config.json")
            try #"{"http": {"threads": 2}, "tasks": {"release_lapsed": {"schedule": "*/5 * * * * Europe/Moscow"}}}"#
                .write(to: configFile, atomically: true, encoding: .utf8)
            let shown = try await WorkerProcess.run(
                ["config", "show", "--json", "--config", configFile.path, "--log-format", "json"],
                environment: [
                    "DATABASE_URL": url, "SLOT_WORKER_TELEGRAM_BOT_TOKEN_FILE": tokenFile.path,
                    "SLOT_WORKER_WORKER_CONCURRENCY": "7",
                ]
            )
            #expect(shown.status == 0, "stderr: \(shown.stderr)")
            #expect(!shown.stdout.contains("hunter2") && !shown.stdout.contains("bot-secret-token"))
            struct Entry: Decodable, Equatable {
                var key, variable, value, source: String
                var secret: Bool
            }
            let entries = try JSONDecoder().decode([Entry].self, from: Data(shown.stdout.utf8))
            func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }
            #expect(entry("database.url")?.value == "(redacted)")
            #expect(entry("database.url")?.source == "environment DATABASE_URL")
            #expect(entry("telegram.bot_token")?.value == "(redacted)")
            #expect(
                entry("telegram.bot_token")?.source
                    == "file \(tokenFile.path) (from SLOT_WORKER_TELEGRAM_BOT_TOKEN_FILE)")
            #expect(entry("worker.concurrency")?.value == "7")
            // Follows the pool's size unless set.
            #expect(entry("worker.database_concurrency")?.value == "10")
            #expect(entry("worker.database_concurrency")?.source == "default")
            #expect(entry("http.threads")?.value == "2")
            #expect(entry("http.threads")?.source == "config file \(configFile.path)")
            #expect(entry("tasks.release_lapsed.schedule")?.value == "*/5 * * * * Europe/Moscow")
            #expect(
                entry("log.format")
                    == Entry(
                        key: "log.format", variable: "SLOT_WORKER_LOG_FORMAT", value: "json",
                        source: "command-line flag", secret: false))
            #expect(entry("http.port")?.source == "default")
            #expect(
                entries.filter(\.secret).map(\.key).sorted() == [
                    "console.admin_token", "database.listen_url", "database.url", "http.metrics_token",
                    "telegram.bot_token",
                ])
        }

        /// `jobs list/show/retry/cancel/delete` by id and by filter, `queues pause/resume` (a paused queue is not
        /// claimed), `DATABASE_URL_FILE`, and `--log-format json` job lines with job.id, job.kind, job.attempt and
        /// duration_ms.
        @Test func jobsAndQueuesCommandsMatchTheConsole() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotworker-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let urlFile = directory.appendingPathComponent("database-url")
            try url.write(to: urlFile, atomically: true, encoding: .utf8)
            let environment = ["DATABASE_URL_FILE": urlFile.path]
            func cli(_ arguments: [String], stdin: String? = nil) async throws -> WorkerProcess.Output {
                let output = try await WorkerProcess.run(arguments, environment: environment, stdin: stdin)
                #expect(output.status == 0, "\(arguments): \(output.stderr)")
                return output
            }

            let lines =
                (0..<6).map { #"{"kind":"fail","payload":{"message":"boom \#($0)","permanent":true}}"# }
                + [#"{"kind":"noop","queue":"mail"}"#, #"{"kind":"noop","queue":"mail"}"#, #"{"kind":"noop"}"#]
            _ = try await cli(["enqueue", "--from", "-"], stdin: lines.joined(separator: "\n"))
            _ = try await cli(["queues", "pause", "mail"])
            #expect(try await cli(["queues", "list"]).stdout.hasPrefix("mail paused since"))

            // One worker pass: the six fail jobs die, the default noop runs, the paused queue's jobs wait.
            let run = try await WorkerProcess.run(
                ["run", "--http-port", "0", "--exit-when-idle", "--log-format", "json"],
                environment: environment.merging(["SLOT_WORKER_LOG_LEVEL": "debug"]) { $1 })
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")
            let jobLines = run.stderr.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    Issue.record("not a JSON log line: \(line)")
                    return nil
                }
                return object["message"] as? String == "job finished" ? object : nil
            }
            // The six fail jobs and the default noop (plus the periodic jobs of the worker itself: slots.*,
            // reminders.plan).
            let periodic = ["slots.release_lapsed", "slots.expire_past", "reminders.plan"]
            #expect(jobLines.filter { !periodic.contains($0["job.kind"] as? String ?? "") }.count == 7)
            for line in jobLines {
                #expect(line["job.id"] is String && line["job.kind"] is String && line["job.attempt"] as? String == "1")
                #expect(line["duration_ms"] is Double || line["duration_ms"] is Int, "\(line)")
            }
            #expect(try await probe.int("SELECT count(*) FROM jobs WHERE queue = 'mail' AND state = 'available'") == 2)

            let listed = try await cli(["jobs", "list", "--state", "dead", "--kind", "fail", "--limit", "4", "--json"])
            let page = try #require(
                try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let ids = page.compactMap { $0["id"] as? Int64 ?? ($0["id"] as? Int).map(Int64.init) }
            #expect(ids.count == 4 && ids == ids.sorted(by: >), "\(listed.stdout)")
            let next = try await cli([
                "jobs", "list", "--state", "dead", "--limit", "4", "--before", "\(ids.last!)", "--json",
            ])
            let secondPage = try #require(
                try JSONSerialization.jsonObject(with: Data(next.stdout.utf8)) as? [[String: Any]])
            #expect(secondPage.count == 2)

            let shown = try await cli(["jobs", "show", "\(ids[0])"])
            #expect(shown.stdout.contains("attempt 1 failed at"), "\(shown.stdout)")
            #expect(shown.stdout.contains("payload:    (hidden; pass --payload)"))
            #expect(try await cli(["jobs", "show", "\(ids[0])", "--payload"]).stdout.contains("boom"))

            let retried = try await cli(["jobs", "retry", "--state", "dead", "--kind", "fail"])
            #expect(retried.stdout == "retried 6 of 6 eligible jobs in 1 transactions\n")
            let cancelled = try await cli(["jobs", "cancel", "--queue", "mail"])
            #expect(cancelled.stdout == "cancelled 2 of 2 eligible jobs in 1 transactions\n")
            let deleted = try await cli(["jobs", "delete", "--state", "cancelled"])
            #expect(deleted.stdout == "deleted 2 of 2 eligible jobs in 1 transactions\n")
            #expect(try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'fail' AND state = 'available'") == 6)
            #expect(try await probe.int("SELECT count(*) FROM jobs WHERE queue = 'mail'") == 0)
            #expect(try await cli(["queues", "resume", "mail"]).stdout == "queue mail resumed\n")
            #expect(try await cli(["queues", "resume", "mail"]).stdout == "queue mail was not paused\n")
            let missing = try await WorkerProcess.run(["jobs", "show", "424242"], environment: environment)
            #expect(missing.status == 1 && missing.stderr.contains("424242"))

            // 60,000 newer jobs push the fail jobs out of the first scan window (50,000 ids): the command keeps
            // searching older windows until its page is full.
            _ = try await probe.query(
                """
                INSERT INTO jobs (kind, state, finished_at) SELECT 'noop', 'succeeded', now()
                FROM generate_series(1, 60000)
                """)
            let far = try await cli(["jobs", "list", "--kind", "fail", "--limit", "3"])
            #expect(far.stdout.split(separator: "\n").filter { $0.contains(" fail ") }.count == 3, "\(far.stdout)")
            #expect(far.stdout.contains("more: add --before \(ids[2])"), "\(far.stdout)")
            #expect(try await cli(["jobs", "list", "--kind", "nope"]).stdout == "no jobs match\n")
            await probe.close()
        }
    }
}
