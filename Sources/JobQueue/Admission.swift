/// Whether a claimed job may start now. Pure: ``JobRunnerCore`` passes what runs.
///
/// One claim can return more jobs of a kind than the kind has free slots (the claim leaves out only kinds already at
/// their limit), so each job is admitted on its own: it starts while its kind is below its concurrency limit and the
/// runner below its own; otherwise it is released at once (back to `available`, its attempt given back).
package enum Admission: Sendable, Equatable {
    /// Run the handler.
    case start
    /// Give the job back untouched.
    case release

    /// - Parameters:
    ///   - kindLimit: the kind's concurrency limit (nil: only the runner's).
    ///   - runningOfKind: attempts of the job's kind running now.
    ///   - running: attempts running now, of every kind.
    ///   - concurrency: the runner's limit (a claim never takes more than the free slots, so this holds unless the
    ///     claim went wrong).
    package init(kindLimit: Int?, runningOfKind: Int, running: Int, concurrency: Int) {
        if let kindLimit, runningOfKind >= kindLimit {
            self = .release
        } else if running >= concurrency {
            self = .release
        } else {
            self = .start
        }
    }
}
