/// The runner's next claim, and the rules that decide when one may run. Pure: every input (the clock included) is
/// passed in; ``JobRunnerCore`` reads its state and the clock, and runs the claim.
///
/// The rules:
/// - A claim takes every free slot (`concurrency − running`); none runs without a free slot.
/// - A claim runs when one was requested (a notification, a finished handler under a backlog, a promotion, a
///   reconnect) or the poll is due.
/// - Backlog: when the last claim filled its limit, more jobs are probably waiting; a requested claim then waits until
///   half the slots are free, or ``backlogWait`` after the last claim, so that claims are few and large under load
///   (a large claim costs the database far less per job than many small ones). A due poll claims regardless.
/// - The claim takes only the kinds this runner registered (a job of another kind stays available for a worker that
///   runs it), less the kinds at their concurrency limit.
package struct ClaimPlan: Sendable, Equatable {
    /// How many jobs to claim at most (the free slots).
    package var limit: Int
    /// The kinds the claim may take: the registered kinds whose running jobs are below their concurrency limit,
    /// in the order given.
    package var kinds: [String]

    package init(limit: Int, kinds: [String]) {
        self.limit = limit
        self.kinds = kinds
    }

    /// While the queue has a backlog, a claim waits for half the slots to be free, or this long after the previous
    /// claim.
    package static let backlogWait = Duration.milliseconds(20)

    /// Whether a claim may run at `now`: some slots free; under a backlog, half of them, or the wait since
    /// `lastClaim` is over.
    package static func isClaimable(
        concurrency: Int,
        running: Int,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant,
        now: ContinuousClock.Instant
    ) -> Bool {
        let free = concurrency - running
        guard free > 0 else { return false }
        return !backlog || free * 2 >= concurrency || now >= lastClaim + backlogWait
    }

    /// The claim to run at `now`, or nil when none is due (not requested and no poll due, no free slot, or held
    /// back by the backlog rule without a poll due).
    ///
    /// - Parameters:
    ///   - requested: a claim was requested since the last one.
    ///   - pollDue: the poll interval is over (a poll claims even under a backlog).
    ///   - runningByKind: running attempts per kind (missing: none).
    ///   - kinds: the registered kinds, each with its concurrency limit (nil: none).
    package static func next(
        requested: Bool,
        pollDue: Bool,
        concurrency: Int,
        running: Int,
        runningByKind: [String: Int],
        kinds: some Sequence<(kind: String, limit: Int?)>,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant,
        now: ContinuousClock.Instant
    ) -> ClaimPlan? {
        let free = concurrency - running
        guard requested || pollDue, free > 0 else { return nil }
        guard
            pollDue
                || isClaimable(
                    concurrency: concurrency, running: running, backlog: backlog, lastClaim: lastClaim, now: now)
        else { return nil }
        let claimable = kinds.compactMap { kind, limit in
            limit.map { runningByKind[kind, default: 0] < $0 } ?? true ? kind : nil
        }
        return ClaimPlan(limit: free, kinds: claimable)
    }

    /// When a requested claim that the backlog rule holds back becomes due (nil: none is held back: no claim
    /// requested, no backlog, or no free slot).
    package static func backlogWaitEnds(
        requested: Bool,
        concurrency: Int,
        running: Int,
        backlog: Bool,
        lastClaim: ContinuousClock.Instant
    ) -> ContinuousClock.Instant? {
        guard requested, backlog, running < concurrency else { return nil }
        return lastClaim + backlogWait
    }
}
