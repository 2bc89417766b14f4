/// Times the snapshots that hold the xmin horizon but whose start this worker cannot read: sessions of other roles,
/// for which `pg_stat_activity` hides `xact_start` and `query_start` unless the worker's role has
/// `pg_read_all_stats`, but shows `backend_xmin` (a `pg_dump` or a report run under another role).
///
/// A snapshot is known by its session and its xmin; it is timed from the first sample that saw it, so its age is
/// low by at most the time before that sample (one sampler interval, or the worker's start). A session whose xmin
/// moved holds a newer horizon and is timed afresh; snapshots no longer seen are forgotten.
package struct HorizonWatch: Sendable, Equatable {
    /// A session holding the horizon, as `pg_stat_activity` shows it to any role.
    package struct Snapshot: Hashable, Sendable {
        package var pid: Int
        /// `backend_xmin` (or `backend_xid` when it has none).
        package var xmin: Int64

        package init(pid: Int, xmin: Int64) {
            self.pid = pid
            self.xmin = xmin
        }
    }

    private var firstSeen: [Snapshot: ContinuousClock.Instant] = [:]

    package init() {}

    /// Records the snapshots seen `now` and returns the age of the oldest of them (zero when there is none).
    package mutating func observe(_ snapshots: [Snapshot], at now: ContinuousClock.Instant) -> Duration {
        var seen: [Snapshot: ContinuousClock.Instant] = [:]
        for snapshot in snapshots {
            seen[snapshot] = firstSeen[snapshot] ?? now
        }
        firstSeen = seen
        return seen.values.map { now - $0 }.max() ?? .zero
    }
}
