public import Foundation
public import Persistence
import PostgresClient

/// Statements of the rescuer, the pruner, the periodic scheduler and the stats sampler.
extension Repository where Mapping == JobTable {
    /// Takes back up to `limit` running jobs whose lease lapsed, in one statement.
    ///
    /// A job with attempts left becomes `available` at once (the lapsed attempt stays spent); one on its last
    /// attempt becomes `dead`. The attempt limit is the row's `max_attempts`, else `kindMaxAttempts[kind]`, else
    /// `defaultMaxAttempts`. `last_error` names the worker that lost the lease.
    public func rescueExpired(
        limit: Int = 1000,
        kindMaxAttempts: [String: Int] = [:],
        defaultMaxAttempts: Int
    ) async -> Result<[RescuedJob], RepositoryError> {
        await rescueExpired(
            limit: limit, kindMaxAttempts: kindMaxAttempts, defaultMaxAttempts: defaultMaxAttempts, from: nil
        ).map(\.jobs)
    }

    /// ``rescueExpired(limit:kindMaxAttempts:defaultMaxAttempts:)`` among leases that lapsed at or after `floor`
    /// (epoch seconds; nil: all, see ``RescueFloor``), with the statement's database time.
    func rescueExpired(
        limit: Int, kindMaxAttempts: [String: Int], defaultMaxAttempts: Int, from floor: Double?
    ) async -> Result<(jobs: [RescuedJob], scannedAt: Double), RepositoryError> {
        let kinds = Array(kindMaxAttempts.keys)
        return await run("rescue") { connection in
            let rows = try await connection.query(
                JobSQL.rescue,
                [
                    limit, kinds, kinds.map { kindMaxAttempts[$0]! }, defaultMaxAttempts, JobNotification.channel,
                    floor ?? ClaimFloor.unbounded.runAt,
                ],
                prepared: true,
                operation: "jobs.rescue"
            )
            let scannedAt: Double = try rows.first?.decode("scanned_at") ?? 0
            let jobs = try rows.compactMap { row -> RescuedJob? in
                guard let id = try row.decode("id", as: Int64?.self) else { return nil }
                return RescuedJob(id: id, kind: try row.decode("kind"), state: try row.decode("state"))
            }
            return (jobs, scannedAt)
        }
    }

    /// Deletes up to `limit` succeeded and cancelled jobs that finished more than `age` ago; returns the count.
    public func pruneCompleted(olderThan age: Duration, limit: Int) async -> Result<Int, RepositoryError> {
        await run("prune") { connection in
            try await connection.query(JobSQL.pruneCompleted, [age.seconds, limit], prepared: true).affectedRows
        }
    }

    /// Deletes up to `limit` dead jobs that finished more than `age` ago; returns the count.
    public func pruneDead(olderThan age: Duration, limit: Int) async -> Result<Int, RepositoryError> {
        await run("prune") { connection in
            try await connection.query(JobSQL.pruneDead, [age.seconds, limit], prepared: true).affectedRows
        }
    }

    /// Forgets periodic periods that started more than `age` ago; returns the count.
    public func prunePeriodicRuns(olderThan age: Duration) async -> Result<Int, RepositoryError> {
        await run("prune") { connection in
            try await connection.query(JobSQL.prunePeriodicRuns, [age.seconds], prepared: true).affectedRows
        }
    }

    /// Enqueues the job of `periodic` for the period starting at `periodStart` unless any worker already did, in one
    /// statement; returns the new job's id, or nil when the period was taken.
    public func enqueuePeriodic(_ periodic: PeriodicJob, periodStart: Date) async -> Result<Int64?, RepositoryError> {
        let epoch = Int64(periodStart.timeIntervalSince1970.rounded(.down))
        return await run("enqueue_periodic") { connection in
            let rows = try await connection.query(
                JobSQL.enqueuePeriodic,
                [
                    periodic.name, Double(epoch), periodic.kind, periodic.queue, periodic.payloadJSON,
                    periodic.priority, periodic.maxAttempts, "periodic:\(periodic.name):\(epoch)",
                    JobNotification.channel,
                ],
                prepared: true,
                operation: "jobs.enqueue_periodic"
            )
            return try rows[0].decode("id", as: Int64?.self)
        }
    }

    /// Queue depth and oldest ready age, in one statement that reads only partial indexes.
    /// Reads a ``QueueSample`` in three statements (queue depth and registration, horizon, table statistics) after
    /// refreshing `worker`'s row in `job_workers`.
    ///
    /// - Parameters:
    ///   - liveWithin: workers seen this recently count as live.
    ///   - unrunnableAfter: ready jobs waiting longer than this count as unrunnable when no live worker runs their
    ///     kind.
    public func sample(
        worker: WorkerRegistration,
        liveWithin: Duration,
        unrunnableAfter: Duration
    ) async -> Result<QueueSample, RepositoryError> {
        await run("sample") { connection in
            let row = try await connection.query(
                JobSQL.sample,
                [worker.workerID, worker.queue, worker.kinds, liveWithin.seconds, unrunnableAfter.seconds],
                prepared: true,
                operation: "jobs.sample"
            )[0]
            var depth: [JobState: Int] = [:]
            for state in QueueSample.sampledStates {
                depth[state] = try row.decode(state.rawValue, as: Int.self)
            }
            let oldest: Double? = try row.decode("oldest_ready_seconds")
            let horizonRow = try await connection.query(JobSQL.horizon, prepared: true, operation: "jobs.sample")[0]
            let horizon: Double = try horizonRow.decode("horizon_seconds")
            let hiddenHolders = try horizonRow.decode("hidden_holders", as: [String]?.self) ?? []
            let hiddenXmins = try horizonRow.decode("hidden_xmins", as: [Int64]?.self) ?? []
            let tables = try await connection.query(JobSQL.tableStats, prepared: true, operation: "jobs.sample").map {
                QueueSample.TableStats(
                    name: try $0.decode("name"),
                    deadTuples: try $0.decode("dead_tuples"),
                    liveTuples: try $0.decode("live_tuples"),
                    tableBytes: try $0.decode("table_bytes"),
                    indexBytes: try $0.decode("index_bytes"),
                    vacuumAge: try $0.decode("vacuum_age_seconds")
                )
            }
            var sample = QueueSample(
                depth: depth,
                oldestReadyAge: oldest ?? 0,
                unrunnable: try row.decode("unrunnable"),
                horizonAge: horizon,
                tables: tables
            )
            sample.hiddenSnapshots = zip(hiddenHolders, hiddenXmins).map { HorizonWatch.Snapshot(holder: $0, xmin: $1) }
            return sample
        }
    }
}

/// A worker as `job_workers` records it: the kinds it runs on its queue.
public struct WorkerRegistration: Sendable, Equatable {
    public var workerID: String
    public var queue: String
    public var kinds: [String]

    public init(workerID: String, queue: String, kinds: [String]) {
        self.workerID = workerID
        self.queue = queue
        self.kinds = kinds
    }
}
