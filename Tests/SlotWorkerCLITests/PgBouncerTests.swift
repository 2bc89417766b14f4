import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    /// The README's PgBouncer setup, for real: `DATABASE_URL` through PgBouncer 1.18 in transaction mode (started
    /// by `scripts/test` in front of the test server, `PGBOUNCER_URL`), `SLOT_WORKER_DATABASE_LISTEN_URL` direct.
    @Suite("PgBouncer in transaction mode")
    struct PgBouncer {
        /// `DATABASE_URL` of database `name` through PgBouncer.
        static func pooledURL(database name: String) throws -> String {
            guard let url = ProcessInfo.processInfo.environment["PGBOUNCER_URL"], !url.isEmpty else {
                throw TestSupportError("PGBOUNCER_URL is not set: run the tests through scripts/test")
            }
            guard let slash = url.lastIndex(of: "/") else { throw TestSupportError("PGBOUNCER_URL has no database") }
            return String(url[..<slash]) + "/" + name
        }

        /// Lines a process logged at level error or critical, or naming a prepared statement.
        static func errors(in log: String) -> [Substring] {
            log.split(separator: "\n").filter {
                $0.contains(" error ") || $0.contains(" critical ") || $0.contains("prepared statement")
            }
        }

        /// Migrations, single and bulk enqueue, a drain by several pooled connections (more than PgBouncer's
        /// server connections for the database, so statements of one client land on different server sessions),
        /// and a NOTIFY wake-up through the direct LISTEN URL (polling is ten minutes apart): all without one error.
        @Test func migrateEnqueueDrainAndListenWithoutErrors() async throws {
            let configuration = try await TestDatabase.create(migrated: false)
            let name = try #require(configuration.database)
            let pooled = try Self.pooledURL(database: name)
            let direct = try TestDatabase.url(database: name)
            let environment = ["DATABASE_URL": pooled, "SLOT_WORKER_DATABASE_LISTEN_URL": direct]
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let migrate = try await WorkerProcess.run(["migrate"], environment: environment)
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                #expect(Self.errors(in: migrate.stderr).isEmpty, "stderr: \(migrate.stderr)")

                let bulk = try await WorkerProcess.run(
                    ["enqueue", "--from", "-"], environment: environment,
                    stdin: jsonLines(3000) { _ in #"{"kind":"noop","payload":{}}"# })
                #expect(bulk.stdout == "enqueued 3000 jobs\n", "stderr: \(bulk.stderr)")
                for _ in 0..<3 {
                    let single = try await WorkerProcess.run(["enqueue", "noop"], environment: environment)
                    #expect(single.status == 0 && Self.errors(in: single.stderr).isEmpty, "stderr: \(single.stderr)")
                }

                let worker = try await scope.startWorker(
                    databaseURL: pooled,
                    environment: [
                        "SLOT_WORKER_DATABASE_LISTEN_URL": direct, "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "600000",
                        "SLOT_WORKER_WORKER_CONCURRENCY": "200",
                    ])
                try await waitFor("the 3,003 jobs succeed", timeout: .seconds(60)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'succeeded'")
                        == 3003
                }
                // The runner LISTENs by now (it claimed after `listening`); the next job arrives by NOTIFY only.
                try await Task.sleep(for: .milliseconds(500))
                let late = try await WorkerProcess.run(["enqueue", "noop"], environment: environment)
                #expect(late.status == 0, "stderr: \(late.stderr)")
                try await waitFor("the job enqueued after the drain succeeds (NOTIFY)", timeout: .seconds(20)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'succeeded'")
                        == 3004
                }
                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                #expect(Self.errors(in: output.stderr).isEmpty, "stderr: \(output.stderr.suffix(3000))")
                #expect(output.stderr.contains("prepared_statements=unnamed"), "stderr: \(output.stderr.prefix(2000))")
            }
            await probe.close()
        }
    }
}
