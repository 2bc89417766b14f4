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
/// floor later; the floor is then lowered to where they start, never dropped:
/// - an enqueue committed after the claim's snapshot whose rows sort below the floor, or a promotion of due
///   scheduled rows: its notification carries the smallest `priority` and `run_at` it made ready (``bound(of:)``),
///   and the floor is lowered to that key (the runner's own promotion reports it in its result too); a
///   notification heard while the claim that sets the floor was in flight counts against that floor too
///   (``ClaimFloorTracker``);
/// - rows made ready at a key nothing reports (retried, released, rescued: notifications that say
///   `requeued`; a (re)connected listener; a failed claim): a **probe** finds the smallest ready key below the
///   floor, on a connection of its own and concurrently with the claims (``ClaimFloorTracker``), and the floor is
///   lowered to it. The probe also runs every ``ClaimFloorTracker/probeInterval(after:)`` for what no notification
///   covers (rows made ready by SQL that sends none, a notification lost without a reconnect), and on every poll
///   when the runner does not listen.
///
/// A claim without a floor (from the front) runs only until a claim returned jobs, and after a change of the kinds
/// the runner may take (a kind below its concurrency limit again).
struct ClaimFloor: Sendable, Equatable {
    /// A position in the claim index's order within one queue.
    struct Key: Sendable, Comparable {
        var priority: Int
        /// Epoch seconds.
        var runAt: Double

        static func < (a: Key, b: Key) -> Bool { (a.priority, a.runAt) < (b.priority, b.runAt) }
    }

    /// The floor's key: claims take rows with `(priority, run_at) >= (priority, runAt)`.
    var priority: Int
    /// Epoch seconds.
    var runAt: Double
    /// The kinds of the claim that set it (another set of kinds drops it).
    var kinds: [String]

    var key: Key { Key(priority: priority, runAt: runAt) }

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

    /// This floor lowered to `key` (less ``margin``) when `key` sorts below it; itself otherwise.
    func lowered(to key: Key) -> ClaimFloor {
        guard key < self.key else { return self }
        return ClaimFloor(priority: key.priority, runAt: key.runAt - Self.margin, kinds: kinds)
    }

    /// What a notification of ready jobs says about rows below this floor.
    enum Bound: Sendable, Equatable {
        /// None of its rows sorts below the floor.
        case above
        /// Its rows sort at `key` or later, and `key` lies below the floor.
        case below(Key)
        /// Its rows may sort anywhere (`requeued`): a probe must find them.
        case unknown
    }

    /// Where the rows of `notification` can start relative to this floor. Its `priority` and `runAt` are minimums over
    /// its rows, taken apart, so `(priority, runAt)` sorts at or below every one of them; a missing `priority` counts
    /// as the floor's, a missing `runAt` as the earliest time.
    func bound(of notification: JobNotification) -> Bound {
        if notification.requeued == true { return .unknown }
        let priority = notification.priority ?? self.priority
        guard priority < self.priority || (priority == self.priority && notification.runAt.map({ $0 < runAt }) == true)
        else { return .above }
        return .below(Key(priority: priority, runAt: notification.runAt ?? Self.unbounded.runAt))
    }
}
