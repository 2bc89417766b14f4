/// One page of a job list (``JobOperations/list(_:before:limit:window:)``), newest first, and where the next one
/// starts.
///
/// A page reads at most a bounded window of ids below its cursor, so a filter that matches few or no jobs costs the
/// same as any other page instead of a walk through the whole table. When the window runs out before the page is
/// full, the page says how far down it searched (``searchedDownTo``) and ``next`` continues below that.
public struct JobPage: Sendable, Equatable {
    /// The matching jobs of this page, newest first.
    public var jobs: [JobSummary]
    /// The `before` of the next (older) page, nil when no older job exists.
    public var next: Int64?
    /// Set when the page is short because its scan window ran out while older jobs exist: the lowest id the page
    /// searched (every job from it up to the cursor was looked at). Nil when the page is full or reached the oldest
    /// job.
    public var searchedDownTo: Int64?

    public init(jobs: [JobSummary], next: Int64?, searchedDownTo: Int64?) {
        self.jobs = jobs
        self.next = next
        self.searchedDownTo = searchedDownTo
    }
}
