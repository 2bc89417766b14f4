public import Persistence
import PostgresClient

/// The runner's statements. Each is one round trip, meant for a session in autocommit mode
/// (`Database.withSession`): no transaction is held while handlers run.
extension Repository where Mapping == JobTable {
    /// Claims up to `limit` ready jobs of `queue` for `workerID` in one statement: `running`, one more attempt,
    /// leased for `lease`.
    ///
    /// Jobs are taken in `priority, run_at, id` order; rows other workers are claiming are skipped, never waited
    /// for. Only jobs of `kinds` are claimed: the others stay `available`, untouched (no attempt spent). Only rows
    /// at or above `floor` in `(priority, run_at)` are seen (default: all; see `ClaimFloor`).
    public func claim(
        queue: String,
        limit: Int,
        workerID: String,
        lease: Duration,
        kinds: [String],
        from floor: (priority: Int, runAt: Double)? = nil
    ) async -> Result<[ClaimedJob], RepositoryError> {
        guard limit > 0, !kinds.isEmpty else { return .success([]) }
        let floor = floor ?? ClaimFloor.unbounded
        return await run("claim") { connection in
            let rows = try await connection.query(
                JobSQL.claim,
                [queue, kinds, limit, workerID, lease.seconds, floor.priority, floor.runAt],
                prepared: true,
                operation: "jobs.claim"
            )
            return try rows.map(ClaimedJob.init(claimRow:))
        }
    }

    /// The smallest `(priority, run_at)` (epoch seconds) of the ready jobs of `queue` and the floor's kinds below
    /// `floor`, nil when there is none: the claim floor's probe (see `ClaimFloorTracker`). Reads only; locks nothing.
    func probeBelowFloor(queue: String, floor: ClaimFloor) async -> Result<ClaimFloor.Key?, RepositoryError> {
        await run("probe_floor") { connection in
            let rows = try await connection.query(
                JobSQL.probeBelowFloor, [queue, floor.kinds, floor.priority, floor.runAt], prepared: true,
                operation: "jobs.probe_floor")
            guard let row = rows.first else { return nil }
            return ClaimFloor.Key(priority: try row.decode("priority"), runAt: try row.decode("run_at_epoch"))
        }
    }

    /// Records finished attempts in one statement and returns the ids it updated.
    ///
    /// A completion applies only while `workerID` still holds that attempt (`state = 'running'`, same
    /// `locked_by`, same `attempts`): an attempt the rescuer took back, or an operator cancelled, is left alone.
    /// Jobs that become ready again send one NOTIFY per queue. Of two completions of one job, only the later
    /// attempt's is sent (the earlier one's lease is gone).
    public func complete(_ completions: [JobCompletion], workerID: String) async -> Result<[Int64], RepositoryError> {
        guard !completions.isEmpty else { return .success([]) }
        return await run("complete") { connection in
            let rows = try await connection.query(
                JobSQL.complete,
                Self.completionBinds(completions) + [workerID, JobNotification.channel],
                prepared: true,
                operation: "jobs.complete"
            )
            return try rows[0].decode(at: 0, as: [Int64]?.self) ?? []
        }
    }

    /// ``JobSQL/complete``'s array binds: ids ascending and unique, then attempts, state codes, attempts given
    /// back, delays (µs, -1: keep `run_at`) and errors, aligned with the ids.
    static func completionBinds(_ completions: [JobCompletion]) -> [any PostgresEncodable] {
        let sorted = Self.ascendingUnique(completions, id: \.id, attempt: \.attempt)
        var ids: [Int64] = []
        var attempts: [Int64] = []
        var states: [Int64] = []
        var givenBack: [Int64] = []
        var delays: [Int64] = []
        var errors: [String] = []
        ids.reserveCapacity(sorted.count)
        attempts.reserveCapacity(sorted.count)
        states.reserveCapacity(sorted.count)
        givenBack.reserveCapacity(sorted.count)
        delays.reserveCapacity(sorted.count)
        errors.reserveCapacity(sorted.count)
        for completion in sorted {
            // Codes index JobSQL.completionStates: succeeded, dead, cancelled, scheduled, available.
            let later = completion.delay.map { $0 > .zero } ?? false
            let state: Int64
            switch completion.outcome {
            case .succeeded: state = 1
            case .dead: state = 2
            case .cancelled: state = 3
            case .retry, .snooze: state = later ? 4 : 5
            case .release, .unclaim: state = 5
            }
            ids.append(completion.id)
            attempts.append(Int64(completion.attempt))
            states.append(state)
            switch completion.outcome {
            case .snooze, .unclaim: givenBack.append(1)
            case .release: givenBack.append(2)
            default: givenBack.append(0)
            }
            switch completion.outcome {
            case .retry, .snooze:
                delays.append(max(completion.delay ?? .zero, .zero).microseconds)
            default:
                delays.append(-1)
            }
            errors.append(completion.error ?? "")
        }
        return [ids, attempts, states, givenBack, delays, errors]
    }

    /// Sorts by id and keeps one element per id, the one of the highest attempt (the statements of batches find
    /// each row's values by binary search in their ascending, unique ids).
    static func ascendingUnique<Element>(
        _ elements: [Element],
        id: (Element) -> Int64,
        attempt: (Element) -> Int
    ) -> [Element] {
        let sorted = elements.sorted { id($0) != id($1) ? id($0) < id($1) : attempt($0) < attempt($1) }
        var unique: [Element] = []
        unique.reserveCapacity(sorted.count)
        for element in sorted {
            if let last = unique.last, id(last) == id(element) {
                unique[unique.count - 1] = element
            } else {
                unique.append(element)
            }
        }
        return unique
    }

    /// Extends the leases of `workerID`'s running attempts by `lease` from now, in one statement, and returns the
    /// ids still held (a missing id was rescued or cancelled).
    public func heartbeat(
        _ attempts: [(id: Int64, attempt: Int)],
        workerID: String,
        lease: Duration
    ) async -> Result<Set<Int64>, RepositoryError> {
        guard !attempts.isEmpty else { return .success([]) }
        let sorted = Self.ascendingUnique(attempts, id: \.id, attempt: \.attempt)
        return await run("heartbeat") { connection in
            let rows = try await connection.query(
                JobSQL.heartbeat,
                [sorted.map(\.id), sorted.map { Int64($0.attempt) }, lease.seconds, workerID],
                prepared: true,
                operation: "jobs.heartbeat"
            )
            return Set(try rows[0].decode(at: 0, as: [Int64]?.self) ?? [])
        }
    }

    /// Gives back the running jobs `workerID` holds but does not know of (`known`: every attempt it runs or has not
    /// written yet), with their attempt: a claim committed whose answer was lost with its connection. Call only
    /// while no claim of `workerID` is in flight. Returns the ids given back.
    public func releaseOrphans(workerID: String, known: [Int64]) async -> Result<[Int64], RepositoryError> {
        await run("release_orphans") { connection in
            let rows = try await connection.query(
                JobSQL.releaseOrphans,
                [workerID, known, JobNotification.channel],
                operation: "jobs.release_orphans"
            )
            return try rows[0].decode(at: 0, as: [Int64]?.self) ?? []
        }
    }

    /// Makes up to `limit` due scheduled jobs available (one NOTIFY per queue, carrying where its rows start in the
    /// claim order) and reports when the next scheduled job is due, and where the jobs it made ready in `queue`
    /// start (``PromotionResult/earliest``).
    public func promoteDue(limit: Int = 1000, queue: String? = nil) async -> Result<PromotionResult, RepositoryError> {
        await run("promote") { connection in
            let rows = try await connection.query(
                JobSQL.promote,
                [limit, JobNotification.channel, queue],
                prepared: true,
                operation: "jobs.promote"
            )
            let next: Double? = try rows[0].decode("next_due_seconds")
            let priority: Int64? = try rows[0].decode("floor_priority")
            let runAt: Double? = try rows[0].decode("floor_run_at")
            return PromotionResult(
                promoted: try rows[0].decode("promoted"),
                nextDue: next.map { .seconds(max(0, $0)) },
                earliest: priority.flatMap { priority in
                    runAt.map { ClaimFloor.Key(priority: Int(priority), runAt: $0) }
                }
            )
        }
    }
}
