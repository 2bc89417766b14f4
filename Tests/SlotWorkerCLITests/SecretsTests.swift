import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("secrets")
    struct Secrets {
        /// A database password, a Telegram bot token and a metrics token given to `slot-worker run` never show in
        /// its logs (at debug level, with jobs failing), in `/readyz` or in `/metrics`; `/metrics` answers only with
        /// the bearer token.
        @Test func secretsStayOutOfLogsAndEndpoints() async throws {
            let configuration = try await TestDatabase.create()
            let server = try TestDatabase.serverConfiguration()
            let password = "Pw-Zq81xKtr"
            let botToken = "7301:BotTokenQm4Vn"
            let metricsToken = "MetricsTokenHj62"
            let secrets = [password, botToken, metricsToken]
            // Trust authentication accepts any password.
            let url =
                "postgresql://\(server.user ?? "postgres"):\(password)@\(server.host):\(server.port)/"
                + configuration.database!
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: url,
                    stdin: #"{"kind":"noop"}"# + "\n"
                        + #"{"kind":"fail","payload":{"message":"boom","permanent":true}}"#
                        + "\n" + #"{"kind":"fail","payload":{"message":"bang","permanent":true}}"# + "\n"
                )
                #expect(enqueue.stdout == "enqueued 3 jobs\n", "stderr: \(enqueue.stderr)")
                for secret in secrets { #expect(!enqueue.stderr.contains(secret) && !enqueue.stdout.contains(secret)) }

                let worker = try await scope.startWorker(
                    databaseURL: url,
                    environment: [
                        "SLOT_WORKER_TELEGRAM_BOT_TOKEN": botToken,
                        "SLOT_WORKER_HTTP_METRICS_TOKEN": metricsToken,
                        "SLOT_WORKER_LOG_LEVEL": "debug",
                        "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                    ]
                )
                try await waitFor("the three jobs finished", timeout: .seconds(30)) {
                    try await probe.int(
                        "SELECT count(*) FROM jobs WHERE kind IN ('noop', 'fail', 'no.such.kind') AND finished_at IS NOT NULL"
                    )
                        == 3
                }
                try await waitFor("ready", timeout: .seconds(10)) { try await worker.get("/readyz").status == 200 }
                let ready = try await worker.get("/readyz")

                let anonymous = try await worker.get("/metrics")
                #expect(anonymous.status == 401)
                #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                let wrong = try await worker.get("/metrics", headers: ["Authorization: Bearer \(metricsToken)x"])
                #expect(wrong.status == 401)
                let metrics = try await worker.get("/metrics", headers: ["Authorization: Bearer \(metricsToken)"])
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("slotworker_build_info"))
                let deadFails = samples(of: "slotworker_jobs_finished_total", in: metrics.body)
                    .filter { $0.0["kind"] == "fail" && $0.0["outcome"] == "dead" }.map(\.1)
                #expect(deadFails == [2])

                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")
                // The logs are there, and say that the tokens are set, without them.
                #expect(output.stderr.contains("slot-worker started"))
                #expect(output.stderr.contains("metrics_token=set telegram_token=set"))
                #expect(output.stderr.contains("debug"), "debug-level lines were logged")
                for (name, text) in [
                    ("stderr", output.stderr), ("stdout", output.stdout), ("/readyz", ready.body),
                    ("/metrics", metrics.body), ("401 body", anonymous.body + wrong.body),
                    ("headers", "\(metrics.headers) \(anonymous.headers)"),
                ] {
                    for secret in secrets {
                        #expect(!text.contains(secret), "\(name) contains a secret")
                    }
                }
            }
            await probe.close()
        }
    }
}
