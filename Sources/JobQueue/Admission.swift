/// Whether a claimed job may start now. Pure: ``JobRunnerCore`` passes what runs.
///
/// One claim can return more jobs of a kind than the kind has free slots (the claim leaves out only kinds already at
/// their limit), and more jobs that use the database than the runner has database slots free (the claim's size is
/// an estimate, see ``ClaimCapacity``), so each job is admitted on its own: it starts while its kind is below its
/// concurrency limit, the runner below its own and, for a kind that uses the database, below its database
/// concurrency; otherwise it is released at once (back to `available`, its attempt given back).
package enum Admission: Sendable, Equatable {
    /// Run the handler.
    case start
    /// Give the job back untouched.
    case release

    /// - Parameters:
    ///   - kindLimit: the kind's concurrency limit (nil: only the runner's).
    ///   - runningOfKind: attempts of the job's kind running now.
    ///   - usesDatabase: the kind uses the database.
    ///   - capacity: what the runner runs now against its limits.
    package init(kindLimit: Int?, runningOfKind: Int, usesDatabase: Bool, capacity: ClaimCapacity) {
        if let kindLimit, runningOfKind >= kindLimit {
            self = .release
        } else if capacity.free <= 0 {
            self = .release
        } else if usesDatabase, capacity.databaseFree <= 0 {
            self = .release
        } else {
            self = .start
        }
    }
}
