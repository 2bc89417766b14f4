/// Times what holds the xmin horizon without saying since when: sessions of other roles, for which
/// `pg_stat_activity` hides `xact_start` and `query_start` unless the worker's role has `pg_read_all_stats` but shows
/// `backend_xmin` (a `pg_dump` or a report run under another role), and replication slots, whose `xmin` (a standby's
/// `hot_standby_feedback`, kept after the standby went away) has no timestamp at all.
///
/// A snapshot is known by its holder and its xmin; it is timed from the first sample that saw it, so its age is low
/// by at most the time before that sample (one sampler interval, or the worker's start). A holder whose xmin moved
/// holds a newer horizon and is timed afresh; snapshots no longer seen are forgotten.
package struct HorizonWatch: Sendable, Equatable {
    /// A holder of the horizon and its xmin.
    package struct Snapshot: Hashable, Sendable {
        /// `pid N` for a session, `slot NAME` for a replication slot.
        package var holder: String
        /// A session's `backend_xmin` (or `backend_xid` when it has none), a slot's `xmin`.
        package var xmin: Int64

        package init(holder: String, xmin: Int64) {
            self.holder = holder
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
