/// What the runner does with one finished attempt: the completion to write, the outcome to count and what to log,
/// decided from how the attempt ended. Pure: the retry jitter comes from the generator passed in, and nothing is
/// logged or written here (``JobRunnerCore`` does both).
///
/// The rules:
/// - `success` succeeds; `snooze` snoozes (attempt given back); `cancel` cancels; `fail` and ``JobError`` are dead
///   at once, whatever attempts remain.
/// - Any other failure (a thrown error, a timeout, `retry` without a delay) retries after the retry policy's backoff
///   while attempts remain, and is dead on the last attempt. `retry(after:)` retries after exactly that delay, and is
///   dead on the last attempt too.
/// - A handler cancelled by shutdown (not by its own control) that throws is released: its attempt is given back.
/// - An attempt stopped because an operator cancelled the job writes nothing (the row is already `cancelled`) and
///   counts as cancelled; one stopped because this worker lost the job writes and counts nothing.
/// - Error text is cut to ``maxErrorLength`` characters.
package struct AttemptOutcome: Sendable, Equatable {
    /// How one attempt ended.
    package enum Ending: Sendable, Equatable {
        /// The handler returned.
        case returned(JobResult)
        /// The handler threw; `permanent` for ``JobError``.
        case threw(message: String, permanent: Bool)
        /// The attempt ran past its timeout and was stopped.
        case timedOut(Duration)
        /// An operator cancelled the job while it ran and its handler was stopped.
        case cancelled
        /// This worker no longer holds the job (rescued after a lapsed lease, or cancelled without a notification).
        case lost
    }

    /// What the runner logs about the attempt.
    package enum Note: Sendable, Equatable {
        /// Failed for good (`fail` or ``JobError``).
        case failedPermanently(String)
        /// Failed on its last attempt.
        case failedOnLastAttempt(String)
        /// Failed; retried after the backoff.
        case retrying(String, in: Duration)
        /// Stopped because an operator cancelled the job.
        case cancelledWhileRunning
        /// Stopped because this worker lost the job.
        case lost
    }

    /// What to write (nil: nothing).
    package var completion: JobCompletion?
    /// What to count (nil: nothing; a released or lost attempt).
    package var outcome: JobOutcome?
    /// What to log (nil: nothing worth a line).
    package var note: Note?

    package init(completion: JobCompletion?, outcome: JobOutcome?, note: Note? = nil) {
        self.completion = completion
        self.outcome = outcome
        self.note = note
    }

    /// The longest error text kept in a completion, in characters (longer text is cut and ends in "…").
    package static let maxErrorLength = 4000

    /// Decides what attempt `attempt` (1-based) of job `id` leads to.
    ///
    /// - Parameters:
    ///   - maxAttempts: the job's attempt limit (the job's own, else its kind's, else the runner's).
    ///   - retry: the backoff policy (the kind's, else the runner's).
    ///   - releasing: the handler's task was cancelled from outside its control (the shutdown timeout).
    ///   - generator: the source of the backoff's jitter.
    package init(
        _ ending: Ending,
        id: Int64,
        attempt: Int,
        maxAttempts: Int,
        retry: RetryPolicy,
        releasing: Bool,
        using generator: inout some RandomNumberGenerator
    ) {
        func completion(_ outcome: JobCompletion.Outcome, delay: Duration? = nil, error: String? = nil) -> JobCompletion
        {
            JobCompletion(id: id, attempt: attempt, outcome: outcome, delay: delay, error: error.map(Self.clip))
        }
        func failed(_ message: String, permanent: Bool) -> AttemptOutcome {
            if permanent {
                return AttemptOutcome(
                    completion: completion(.dead, error: message), outcome: .dead, note: .failedPermanently(message))
            }
            if attempt >= maxAttempts {
                return AttemptOutcome(
                    completion: completion(
                        .dead, error: "\(message) (attempt \(attempt) of \(maxAttempts), none left)"),
                    outcome: .dead,
                    note: .failedOnLastAttempt(message)
                )
            }
            let delay = retry.delay(afterAttempt: attempt, using: &generator)
            return AttemptOutcome(
                completion: completion(.retry, delay: delay, error: message),
                outcome: .retried,
                note: .retrying(message, in: delay)
            )
        }
        switch ending {
        case .returned(.success):
            self.init(completion: completion(.succeeded), outcome: .succeeded)
        case .returned(.retry(let after, let reason)):
            let message = reason ?? "the handler asked for a retry"
            if attempt < maxAttempts, let after {
                self.init(completion: completion(.retry, delay: after, error: reason), outcome: .retried)
            } else {
                self = failed(message, permanent: false)
            }
        case .returned(.fail(let message)):
            self = failed(message, permanent: true)
        case .returned(.snooze(let delay)):
            self.init(completion: completion(.snooze, delay: delay), outcome: .snoozed)
        case .returned(.cancel(let reason)):
            self.init(completion: completion(.cancelled, error: reason), outcome: .cancelled)
        case .threw(let message, let permanent):
            if releasing, !permanent {
                self.init(completion: completion(.release), outcome: nil)
            } else {
                self = failed(message, permanent: permanent)
            }
        case .timedOut(let timeout):
            self = failed("timed out after \(timeout); the handler was cancelled", permanent: false)
        case .cancelled:
            self.init(completion: nil, outcome: .cancelled, note: .cancelledWhileRunning)
        case .lost:
            self.init(completion: nil, outcome: nil, note: .lost)
        }
    }

    /// Cuts an error message to ``maxErrorLength`` characters.
    static func clip(_ message: String) -> String {
        message.count <= maxErrorLength ? message : String(message.prefix(maxErrorLength)) + "…"
    }
}
