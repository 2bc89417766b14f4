/// The runner's next claim, and the rules that decide when one may run. Pure: every input (the clock included) is
/// passed in; ``JobRunnerCore`` reads its state and the clock, and runs the claim.
///
/// The rules:
/// - A claim takes at most what the runner can start now (``ClaimCapacity/limit``: the free slots, fewer when the
///   jobs ahead use the database and its slots are the tighter limit); none runs when that is nothing.
/// - A claim runs when one was requested (a notification, a finished handler under a backlog, a promotion, a
///   reconnect) or the poll is due.
/// - Backlog: when the last claim filled its limit, more jobs are probably waiting; a requested claim then waits until
///   half of what an idle runner would claim can be claimed, or ``backlogWait`` after the last claim, so that claims
///   are few and large under load (a large claim costs the database far less per job than many small ones). A due
///   poll claims regardless.
/// - The claim takes only the kinds this runner registered (a job of another kind stays available for a worker that
///   runs it), less the kinds at their concurrency limit, less the kinds that use the database while its slots are
///   taken. While they are taken and the jobs ahead use the database, only a due poll claims (the other kinds,
///   into every free slot), so jobs that need no connection still run behind long database jobs.
package struct ClaimPlan: Sendable, Equatable {
    /// How many jobs to claim at most.
    package var limit: Int
    /// The kinds the claim may take, in the order given.
    package var kinds: [String]
    /// Whether kinds that use the database are among ``kinds`` (only such a claim tells the mix of the jobs ahead:
    /// ``ClaimCapacity/learning(claimed:usingDatabase:)``).
    package var databaseKinds: Bool

    package init(limit: Int, kinds: [String], databaseKinds: Bool = true) {
        self.limit = limit
        self.kinds = kinds
        self.databaseKinds = databaseKinds
    }

    /// A registered kind as the claim sees it.
    package struct Kind: Sendable, Equatable {
        package var name: String
        /// The kind's concurrency limit (nil: only the runner's).
        package var limit: Int?
        package var usesDatabase: Bool

        package init(_ name: String, limit: Int? = nil, usesDatabase: Bool = false) {
            self.name = name
            self.limit = limit
            self.usesDatabase = usesDatabase
        }
    }

    /// While the queue has a backlog, a claim waits until half of an idle runner's claim can be claimed, or this long
    /// after the previous claim.
    package static let backlogWait = Duration.milliseconds(20)

    /// Whether a requested claim may run at `now`: something can be claimed; under a backlog, half of what an idle
    /// runner claims, or the wait since `lastClaim` is over.
    package static func isClaimable(
        capacity: ClaimCapacity,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant,
        now: ContinuousClock.Instant
    ) -> Bool {
        let limit = capacity.limit.jobs
        guard limit > 0 else { return false }
        return !backlog || limit * 2 >= capacity.idleLimit || now >= lastClaim + backlogWait
    }

    /// The claim to run at `now`, or nil when none is due (not requested and no poll due, nothing claimable, or
    /// held back by the backlog rule without a poll due).
    ///
    /// - Parameters:
    ///   - requested: a claim was requested since the last one.
    ///   - pollDue: the poll interval is over (a poll claims even under a backlog).
    ///   - runningByKind: running attempts per kind (missing: none).
    ///   - kinds: the registered kinds.
    package static func next(
        requested: Bool,
        pollDue: Bool,
        capacity: ClaimCapacity,
        runningByKind: [String: Int],
        kinds: some Sequence<Kind>,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant,
        now: ContinuousClock.Instant
    ) -> ClaimPlan? {
        guard requested || pollDue else { return nil }
        var (limit, databaseKinds) = capacity.limit
        if limit == 0, pollDue, capacity.free > 0 { (limit, databaseKinds) = (capacity.free, false) }
        guard limit > 0 else { return nil }
        guard pollDue || isClaimable(capacity: capacity, backlog: backlog, lastClaim: lastClaim, now: now) else {
            return nil
        }
        let claimable = kinds.compactMap { kind -> String? in
            if kind.usesDatabase, !databaseKinds { return nil }
            if let kindLimit = kind.limit, runningByKind[kind.name, default: 0] >= kindLimit { return nil }
            return kind.name
        }
        guard !claimable.isEmpty else { return nil }
        return ClaimPlan(limit: limit, kinds: claimable, databaseKinds: databaseKinds)
    }

    /// When a requested claim that the backlog rule holds back becomes due (nil: none is held back: no claim
    /// requested, no backlog, or nothing claimable).
    package static func backlogWaitEnds(
        requested: Bool,
        capacity: ClaimCapacity,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant
    ) -> ContinuousClock.Instant? {
        guard requested, backlog, capacity.limit.jobs > 0 else { return nil }
        return lastClaim + backlogWait
    }
}
