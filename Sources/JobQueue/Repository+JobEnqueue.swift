import Foundation
public import Persistence
import PostgresClient

/// The repository of `jobs`.
public typealias JobRepository = Repository<JobTable>

extension UnitOfWork {
    /// The job queue in this Unit of Work's transaction: a job enqueued here exists only if the caller commits, and
    /// its NOTIFY is delivered only then.
    public var jobs: JobRepository { repository(JobTable.self) }
}

extension RepositoryContext {
    /// The job queue on this context's connection (a session in autocommit mode, or a Unit of Work).
    public var jobs: JobRepository { JobRepository(context: self) }
}

extension Repository where Mapping == JobTable {
    /// Enqueues one job (see the batch variant).
    public func enqueue(_ job: NewJob) async -> Result<EnqueuedJob, RepositoryError> {
        await enqueue([job]).map { $0[0] }
    }

    /// Enqueues jobs with one INSERT (plus one lookup when unique keys collide) and one NOTIFY per queue, all in the
    /// context's transaction.
    ///
    /// - A job whose unique key an unfinished job already holds is not inserted: its result carries the existing
    ///   job's id and `isDuplicate`. The same key twice in one batch yields one job.
    /// - Results are in input order.
    /// - Returns: `.validation` naming the field (and index, for batches) for values the schema would reject;
    ///   `.database` for everything else.
    public func enqueue(_ jobs: [NewJob]) async -> Result<[EnqueuedJob], RepositoryError> {
        guard !jobs.isEmpty else { return .success([]) }
        for (index, job) in jobs.enumerated() {
            do {
                try job.validate()
            } catch {
                let field = jobs.count == 1 ? error.field : "jobs[\(index)].\(error.field)"
                return .failure(.validation(field: field, message: error.message))
            }
        }
        return await run("enqueue") { connection in
            try await Self.insert(jobs, connection)
        }
    }

    private static func insert(_ jobs: [NewJob], _ connection: PostgresConnection) async throws -> [EnqueuedJob] {
        if jobs.allSatisfy({ $0.uniqueKey == nil }) {
            let rows = try await connection.query(
                JobSQL.enqueuePlain,
                Self.arrayBinds(jobs, keyed: false) + [JobNotification.channel],
                prepared: true,
                operation: "jobs.enqueue"
            )
            // Ids come from the sequence in input order: consecutive unless other inserts took some in between.
            let first = try rows[0].decode(at: 0, as: Int64.self)
            let count = try rows[0].decode(at: 1, as: Int.self)
            guard count == jobs.count else {
                throw PostgresError(.decoding, message: "inserted \(count) of \(jobs.count) jobs", operation: "enqueue")
            }
            if let ids = try rows[0].decode(at: 2, as: [Int64]?.self) {
                return ids.sorted().map { EnqueuedJob(id: $0, isDuplicate: false) }
            }
            return (0..<Int64(count)).map { EnqueuedJob(id: first + $0, isDuplicate: false) }
        }
        var results = [EnqueuedJob?](repeating: nil, count: jobs.count)
        var pending = Array(jobs.indices)
        // A key whose holder finished between the INSERT and the lookup is inserted again; three rounds are plenty.
        for _ in 0..<3 where !pending.isEmpty {
            let batch = pending.map { jobs[$0] }
            let rows = try await connection.query(
                JobSQL.enqueue,
                Self.arrayBinds(batch, keyed: true) + [JobNotification.channel],
                prepared: true,
                operation: "jobs.enqueue"
            )
            var insertedByKey: [String: Int64] = [:]
            var plainIDs: [Int64] = []
            for row in rows {
                let id: Int64 = try row.decode("id")
                if let key: String = try row.decode("unique_key") {
                    insertedByKey[key] = id
                } else {
                    plainIDs.append(id)
                }
            }
            // Ids come from the sequence in input order, so ascending ids are the input order of unkeyed jobs.
            plainIDs.sort()
            var nextPlain = 0
            var claimedKeys = Set<String>()
            var unresolved: [Int] = []
            for index in pending {
                guard let key = jobs[index].uniqueKey else {
                    results[index] = EnqueuedJob(id: plainIDs[nextPlain], isDuplicate: false)
                    nextPlain += 1
                    continue
                }
                if let id = insertedByKey[key] {
                    results[index] = EnqueuedJob(id: id, isDuplicate: claimedKeys.contains(key))
                    claimedKeys.insert(key)
                } else {
                    unresolved.append(index)
                }
            }
            guard !unresolved.isEmpty else { return results.map { $0! } }
            let keys = Array(Set(unresolved.compactMap { jobs[$0].uniqueKey }))
            let existing = try await connection.query(
                JobSQL.existingUnique,
                [keys],
                prepared: true,
                operation: "jobs.enqueue_existing"
            )
            var existingByKey: [String: Int64] = [:]
            for row in existing {
                existingByKey[try row.decode("unique_key", as: String.self)] = try row.decode("id", as: Int64.self)
            }
            pending = []
            for index in unresolved {
                if let id = existingByKey[jobs[index].uniqueKey!] {
                    results[index] = EnqueuedJob(id: id, isDuplicate: true)
                } else {
                    pending.append(index)
                }
            }
        }
        guard pending.isEmpty else {
            throw RepositoryError.conflict(
                constraint: "jobs_unique_key_idx",
                message: "unique key \"\(jobs[pending[0]].uniqueKey ?? "")\" kept changing hands; try again"
            )
        }
        return results.map { $0! }
    }

    private static func arrayBinds(_ jobs: [NewJob], keyed: Bool) -> [any PostgresEncodable] {
        let none = Int64.min  // JobSQL.noMicroseconds
        var kinds: [String] = []
        var queues: [String] = []
        var payloads: [String] = []
        var priorities: [Int64] = []
        var runAts: [Int64] = []
        var delays: [Int64] = []
        var maxAttempts: [Int64] = []
        kinds.reserveCapacity(jobs.count)
        queues.reserveCapacity(jobs.count)
        payloads.reserveCapacity(jobs.count)
        priorities.reserveCapacity(jobs.count)
        runAts.reserveCapacity(jobs.count)
        delays.reserveCapacity(jobs.count)
        maxAttempts.reserveCapacity(jobs.count)
        for job in jobs {
            kinds.append(job.kind)
            queues.append(job.queue)
            payloads.append(job.payloadJSON)
            priorities.append(Int64(job.priority))
            maxAttempts.append(Int64(job.maxAttempts ?? 0))
            switch job.schedule {
            case .now:
                runAts.append(none)
                delays.append(none)
            case .at(let date):
                runAts.append(Int64((date.timeIntervalSince1970 * 1e6).rounded()))
                delays.append(none)
            case .after(let delay):
                runAts.append(none)
                delays.append(delay.microseconds)
            }
        }
        var binds: [any PostgresEncodable] = [kinds, queues, payloads, priorities, runAts, delays, maxAttempts]
        if keyed { binds.append(jobs.map { $0.uniqueKey ?? "" }) }
        return binds
    }
}

extension Duration {
    /// Whole microseconds (the database's resolution), saturating far beyond any valid timestamp.
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        let limit = Int64.max / 1_000_000 - 1
        return min(max(seconds, -limit), limit) * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
