import Foundation

/// Where a runner's claim starts in the claim index (`queue, priority, run_at, id` over `available` rows), so that
/// it does not walk the index entries of the jobs already claimed.
///
/// ## Why
/// Every claimed job leaves a dead entry at the front of the claim index until VACUUM removes it; with a snapshot
/// held anywhere on the server (a `pg_dump`, a REPEATABLE READ report) VACUUM removes none, and even the entries'
/// kill bits cannot be set, so a claim that scans from the front visits the heap for every job claimed since: claim
/// time grows with the backlog of dead rows and throughput collapses. A claim that starts at a floor key skips them;
/// it walks only the entries between the floor and the first ready row (the jobs of the claims just before, and
/// ``margin`` worth of enqueues), however long the snapshot is held.
///
/// ## Rule
/// After a claim that returned jobs, the floor is the smallest `(priority, run_at)` it returned, less ``margin`` (which
/// only absorbs the rounding of epoch seconds; rows of that same `run_at` stay above the floor). Rows below it were
/// then locked by other claims, of kinds this runner does not take, or not committed yet. Rows can appear below the
/// floor later only by paths the runner hears of, and each one drops the floor (the next claim scans from the front):
/// - an enqueue committed after the claim's snapshot whose rows sort below the floor: its notification carries the
///   smallest `priority` and `run_at` it made ready (``isUndercut(by:)``); a notification heard while the claim that
///   sets the floor was in flight counts against that floor too (``ClaimFloorTracker``);
/// - promotion of due jobs, retries, releases and rescues (their notifications say `requeued`);
/// - a change of the kinds the runner may take (a kind below its concurrency limit again), a (re)connected listener
///   (notifications may have been lost), a failed claim.
///
/// A claim without a floor also runs every ``ClaimFloorTracker/fullClaimInterval(after:)`` for what no notification
/// covers (rows made ready by SQL that sends none, a notification lost without a reconnect), and on every poll when
/// the runner does not listen.
struct ClaimFloor: Sendable, Equatable {
    /// The floor's key: claims take rows with `(priority, run_at) >= (priority, runAt)`.
    var priority: Int
    /// Epoch seconds.
    var runAt: Double
    /// The kinds of the claim that set it (another set of kinds drops it).
    var kinds: [String]

    /// How far below the smallest claimed `run_at` the floor lies: the rounding of `run_at` as epoch seconds in a
    /// double (below a microsecond), with room to spare; small enough that the entries walked above the floor stay
    /// few at any rate.
    static let margin = 0.001

    /// The key that lets a claim see every row (smallint's minimum; 1653-07-10 as epoch seconds).
    static let unbounded = (priority: Int(Int16.min), runAt: -1e10)

    /// The floor after a claim of `kinds` returned `jobs` (nil: keep the one before).
    static func after(claiming jobs: [ClaimedJob], kinds: [String]) -> ClaimFloor? {
        guard let first = jobs.min(by: { ($0.priority, $0.runAt) < ($1.priority, $1.runAt) }) else { return nil }
        return ClaimFloor(
            priority: first.priority, runAt: first.runAt.timeIntervalSince1970 - margin, kinds: kinds.sorted())
    }

    /// Whether a claim of `kinds` may start at this floor.
    func applies(to kinds: [String]) -> Bool { self.kinds == kinds.sorted() }

    /// Whether a notification can mean ready rows below this floor: `requeued`, a more urgent `priority`, or at the
    /// floor's priority a `run_at` below it. (The notification's `priority` and `runAt` are minimums over its rows,
    /// taken apart, so the test errs only towards dropping the floor.)
    func isUndercut(by notification: JobNotification) -> Bool {
        if notification.requeued == true { return true }
        let priority = notification.priority ?? self.priority
        if priority < self.priority { return true }
        if priority == self.priority, let runAt = notification.runAt, runAt < self.runAt { return true }
        return false
    }
}
