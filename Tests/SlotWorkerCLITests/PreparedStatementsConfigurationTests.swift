import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    /// `database.prepared_statements` through the real binary: a bad value stops `migrate` with an error naming the
    /// key and its variable; `auto`, `named` and `unnamed` all work against a direct server.
    @Suite("prepared statements setting")
    struct PreparedStatementsSetting {
        @Test func badValueIsRefusedAndEveryModeWorks() async throws {
            let configuration = try await TestDatabase.create(migrated: false)
            let url = try TestDatabase.url(database: configuration.database!)
            let bad = try await WorkerProcess.run(
                ["migrate"],
                environment: ["DATABASE_URL": url, "SLOT_WORKER_DATABASE_PREPARED_STATEMENTS": "sometimes"])
            #expect(bad.status != 0)
            #expect(
                bad.stderr.contains(
                    #"invalid configuration database.prepared_statements (SLOT_WORKER_DATABASE_PREPARED_STATEMENTS): "sometimes" is not one of auto, named, unnamed"#
                ), "stderr: \(bad.stderr)")
            for mode in ["auto", "named", "unnamed"] {
                let environment = ["DATABASE_URL": url, "SLOT_WORKER_DATABASE_PREPARED_STATEMENTS": mode]
                let migrate = try await WorkerProcess.run(["migrate"], environment: environment)
                #expect(migrate.status == 0, "\(mode): \(migrate.stderr)")
                let enqueue = try await WorkerProcess.run(["enqueue", "noop"], environment: environment)
                #expect(enqueue.stdout.hasPrefix("enqueued job "), "\(mode): \(enqueue.stderr)")
            }
        }
    }
}
