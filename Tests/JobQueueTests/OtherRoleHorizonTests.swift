import Foundation
import JobQueue
import Persistence
import PostgresClient
import TestSupport
import Testing

extension RunnerSuite {
    @Suite("the horizon held by another role")
    struct OtherRoleHorizon {
        /// A worker whose role lacks `pg_read_all_stats` cannot read when another role's transaction began, but sees
        /// its `backend_xmin`: the sampler times that snapshot across samples, so the horizon's age grows while a
        /// REPEATABLE READ transaction of the server's superuser (a `pg_dump`, a report) holds it, and the snapshot is
        /// gone from the sample once it ends. A snapshot held in another database is not counted.
        @Test func aSnapshotOfAnotherRoleIsTimedAcrossSamples() async throws {
            let database = try await makeDatabase()
            let configuration = database.pool.configuration
            // A generated name, not input: identifiers cannot be bound parameters.
            let role = "t_observer_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
            try await database.pool.withConnection { connection in
                try await connection.execute("CREATE ROLE \(role) LOGIN")
                try await connection.execute(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role)")
                try await connection.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role)")
            }
            let observerURL =
                "postgresql://\(role)@\(configuration.host):\(configuration.port)/\(configuration.database ?? "")"
            let observer = Database(
                pool: PostgresPool(configuration: try PostgresConfiguration(observerURL)), logger: testLogger)
            let sampler = QueueStatsSampler(
                database: observer, worker: WorkerRegistration(workerID: "observer", queue: "default", kinds: ["noop"]),
                observer: NoopJobQueueObserver(), logger: testLogger)
            var watch = HorizonWatch()
            let holder = try await database.pool.withConnection { holder in
                try await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                let pid = try await holder.query("SELECT pg_backend_pid()")[0].decode(at: 0, as: Int.self)
                let first = try await sampler.sampleOnce(watch: &watch).get()
                #expect(
                    first.hiddenSnapshots.map(\.holder) == ["pid \(pid)"],
                    "the holder's start is hidden from the observer")
                try await Task.sleep(for: .milliseconds(1500))
                let second = try await sampler.sampleOnce(watch: &watch).get()
                #expect(second.horizonAge >= 1.4, "timed from the first sample")
                try await holder.execute("ROLLBACK")
                return pid
            }
            let after = try await sampler.sampleOnce(watch: &watch).get()
            #expect(!after.hiddenSnapshots.map(\.holder).contains("pid \(holder)"))
            #expect(after.horizonAge < 1.4)

            // A snapshot in another database holds only that database's horizon (and the shared catalogs'): the
            // sample leaves it out, though this role sees its backend_xmin there too.
            let elsewhere = try await PostgresConnection.connect(try TestDatabase.serverConfiguration())
            try await elsewhere.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            let elsewherePID = try await elsewhere.query("SELECT pg_backend_pid()")[0].decode(at: 0, as: Int.self)
            let beside = try await sampler.sampleOnce(watch: &watch).get()
            try await elsewhere.execute("ROLLBACK")
            await elsewhere.close()
            #expect(!beside.hiddenSnapshots.map(\.holder).contains("pid \(elsewherePID)"))
            await observer.pool.close()
        }
    }
}
