import Foundation

/// Where a runner's claim starts in the claim index (`queue, priority, run_at, id` over `available` rows), so that
/// it does not walk the index entries of the jobs already claimed.
///
/// ## Why
/// Every claimed job leaves a dead entry at the front of the claim index until VACUUM removes it; with a snapshot
/// held anywhere on the server (a `pg_dump`, a REPEATABLE READ report) VACUUM removes none, and even the entries'
/// kill bits cannot be set, so a claim that scans from the front visits the heap for every job claimed since: claim
/// time grows with the backlog of dead rows and throughput collapses. A claim that starts at a floor key skips them.
///
/// ## Rule
/// After a claim that returned jobs, the floor is the smallest `(priority, run_at)` it returned, less ``margin``.
/// Rows below that were locked by other claims, of kinds this runner does not take, or not committed yet
/// (an enqueue transaction that started before it, younger than ``margin``, is still above the floor). Rows can
/// appear below the floor later only by paths the runner hears of, and each one drops the floor (the next claim
/// scans from the front): promotion of due jobs, retries, releases and rescues (their notifications say
/// `requeued`), an enqueue with an explicit past `run_at` (also `requeued`) or a more urgent priority (its
/// notification's `priority`), a change of the kinds the runner may take (a kind below its concurrency limit again),
/// a (re)connected listener. A claim without a floor also runs at least every ``fullClaimInterval`` (for what no
/// notification covers: an enqueue transaction open longer than ``margin``, a lost notification), and on every poll
/// when the runner does not listen.
struct ClaimFloor: Sendable, Equatable {
    /// The floor's key: claims take rows with `(priority, run_at) >= (priority, runAt)`.
    var priority: Int
    /// Epoch seconds.
    var runAt: Double
    /// The kinds of the claim that set it (another set of kinds drops it).
    var kinds: [String]

    /// How far below the smallest claimed `run_at` the floor lies.
    static let margin = 2.0
    /// The longest time between two claims without a floor (while listening).
    static let fullClaimInterval = Duration.seconds(5)

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

    /// Whether a notification can mean rows below this floor.
    func isUndercut(by notification: JobNotification) -> Bool {
        if notification.requeued == true { return true }
        if let priority = notification.priority, priority < self.priority { return true }
        return false
    }
}
