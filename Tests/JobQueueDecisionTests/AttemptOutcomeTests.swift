import JobQueue
import Testing

/// How an attempt's ending maps to a completion, an outcome and a log note (``AttemptOutcome``), as a table.
@Suite("Attempt outcome")
struct AttemptOutcomeTests {
    /// Without jitter: waits of 1, 2, 4, … s, capped at 10 min.
    static let policy = RetryPolicy(base: .seconds(1), cap: .seconds(600), jitter: 0)
    static let id: Int64 = 42

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var ending: AttemptOutcome.Ending
        var attempt = 1
        var maxAttempts = 3
        var releasing = false
        var expected: AttemptOutcome

        var testDescription: String { name }
    }

    /// The completion of attempt `attempt` of the test job.
    static func written(
        _ outcome: JobCompletion.Outcome, attempt: Int = 1, delay: Duration? = nil, error: String? = nil
    ) -> JobCompletion {
        JobCompletion(id: id, attempt: attempt, outcome: outcome, delay: delay, error: error)
    }

    static let long = String(repeating: "x", count: 5000)

    static let cases: [Case] = [
        // Returned results.
        Case(
            name: "success succeeds", ending: .returned(.success),
            expected: AttemptOutcome(completion: written(.succeeded), outcome: .succeeded)),
        Case(
            name: "success on the last attempt succeeds", ending: .returned(.success), attempt: 3,
            expected: AttemptOutcome(completion: written(.succeeded, attempt: 3), outcome: .succeeded)),
        Case(
            name: "retry(after:) retries after exactly that delay, quietly",
            ending: .returned(.retry(after: .seconds(30), reason: "busy")),
            expected: AttemptOutcome(
                completion: written(.retry, delay: .seconds(30), error: "busy"), outcome: .retried)),
        Case(
            name: "retry(after:) without a reason keeps the previous error",
            ending: .returned(.retry(after: .seconds(30))),
            expected: AttemptOutcome(completion: written(.retry, delay: .seconds(30)), outcome: .retried)),
        Case(
            name: "retry without a delay takes the policy's backoff for the attempt",
            ending: .returned(.retry(reason: "flaky")), attempt: 2,
            expected: AttemptOutcome(
                completion: written(.retry, attempt: 2, delay: .seconds(2), error: "flaky"), outcome: .retried,
                note: .retrying("flaky", in: .seconds(2)))),
        Case(
            name: "retry without delay or reason says the handler asked", ending: .returned(.retry()),
            expected: AttemptOutcome(
                completion: written(.retry, delay: .seconds(1), error: "the handler asked for a retry"),
                outcome: .retried, note: .retrying("the handler asked for a retry", in: .seconds(1)))),
        Case(
            name: "retry(after:) on the last attempt is dead",
            ending: .returned(.retry(after: .seconds(30), reason: "busy")), attempt: 3,
            expected: AttemptOutcome(
                completion: written(.dead, attempt: 3, error: "busy (attempt 3 of 3, none left)"), outcome: .dead,
                note: .failedOnLastAttempt("busy"))),
        Case(
            name: "retry past the attempt limit is dead", ending: .returned(.retry()), attempt: 4,
            expected: AttemptOutcome(
                completion: written(
                    .dead, attempt: 4, error: "the handler asked for a retry (attempt 4 of 3, none left)"),
                outcome: .dead, note: .failedOnLastAttempt("the handler asked for a retry"))),
        Case(
            name: "fail is dead at once, attempts left or not", ending: .returned(.fail("bad input")),
            expected: AttemptOutcome(
                completion: written(.dead, error: "bad input"), outcome: .dead,
                note: .failedPermanently("bad input"))),
        Case(
            name: "snooze snoozes, even on the last attempt", ending: .returned(.snooze(.seconds(300))),
            attempt: 3,
            expected: AttemptOutcome(
                completion: written(.snooze, attempt: 3, delay: .seconds(300)),
                outcome: .snoozed)),
        Case(
            name: "cancel cancels with its reason", ending: .returned(.cancel("not needed")),
            expected: AttemptOutcome(completion: written(.cancelled, error: "not needed"), outcome: .cancelled)),

        // Thrown errors.
        Case(
            name: "a thrown error retries with backoff", ending: .threw(message: "boom", permanent: false),
            maxAttempts: 5,
            expected: AttemptOutcome(
                completion: written(.retry, delay: .seconds(1), error: "boom"), outcome: .retried,
                note: .retrying("boom", in: .seconds(1)))),
        Case(
            name: "the backoff is capped", ending: .threw(message: "boom", permanent: false), attempt: 15,
            maxAttempts: 20,
            expected: AttemptOutcome(
                completion: written(.retry, attempt: 15, delay: .seconds(600), error: "boom"), outcome: .retried,
                note: .retrying("boom", in: .seconds(600)))),
        Case(
            name: "a thrown error on the last attempt is dead", ending: .threw(message: "boom", permanent: false),
            attempt: 5, maxAttempts: 5,
            expected: AttemptOutcome(
                completion: written(.dead, attempt: 5, error: "boom (attempt 5 of 5, none left)"), outcome: .dead,
                note: .failedOnLastAttempt("boom"))),
        Case(
            name: "JobError is dead at once", ending: .threw(message: "no such user", permanent: true),
            expected: AttemptOutcome(
                completion: written(.dead, error: "no such user"), outcome: .dead,
                note: .failedPermanently("no such user"))),

        // Shutdown: the handler's task cancelled from outside its control.
        Case(
            name: "releasing: a thrown error releases without counting",
            ending: .threw(message: "cancelled", permanent: false), attempt: 3, releasing: true,
            expected: AttemptOutcome(completion: written(.release, attempt: 3), outcome: nil)),
        Case(
            name: "releasing: JobError is still dead", ending: .threw(message: "bad", permanent: true),
            releasing: true,
            expected: AttemptOutcome(
                completion: written(.dead, error: "bad"), outcome: .dead, note: .failedPermanently("bad"))),
        Case(
            name: "releasing: a handler that returned keeps its result", ending: .returned(.success),
            releasing: true, expected: AttemptOutcome(completion: written(.succeeded), outcome: .succeeded)),

        // Stopped by the runner.
        Case(
            name: "a timeout retries with backoff", ending: .timedOut(.seconds(30)), attempt: 2,
            expected: AttemptOutcome(
                completion: written(
                    .retry, attempt: 2, delay: .seconds(2),
                    error: "timed out after 30.0 seconds; the handler was cancelled"),
                outcome: .retried,
                note: .retrying("timed out after 30.0 seconds; the handler was cancelled", in: .seconds(2)))),
        Case(
            name: "a timeout on the last attempt is dead", ending: .timedOut(.seconds(30)), attempt: 3,
            expected: AttemptOutcome(
                completion: written(
                    .dead, attempt: 3,
                    error: "timed out after 30.0 seconds; the handler was cancelled (attempt 3 of 3, none left)"),
                outcome: .dead,
                note: .failedOnLastAttempt("timed out after 30.0 seconds; the handler was cancelled"))),
        Case(
            name: "cancelled by an operator: nothing written, counted as cancelled", ending: .cancelled,
            expected: AttemptOutcome(completion: nil, outcome: .cancelled, note: .cancelledWhileRunning)),
        Case(
            name: "lost: nothing written, nothing counted", ending: .lost,
            expected: AttemptOutcome(completion: nil, outcome: nil, note: .lost)),
        Case(
            name: "lost while releasing: still nothing", ending: .lost, releasing: true,
            expected: AttemptOutcome(completion: nil, outcome: nil, note: .lost)),

        // Error text.
        Case(
            name: "a long error is cut to 4,000 characters in the row, kept whole in the log",
            ending: .returned(.fail(long)),
            expected: AttemptOutcome(
                completion: written(.dead, error: String(repeating: "x", count: 4000) + "…"), outcome: .dead,
                note: .failedPermanently(long))),
        Case(
            name: "an error of exactly 4,000 characters is kept",
            ending: .returned(.cancel(String(repeating: "y", count: 4000))),
            expected: AttemptOutcome(
                completion: written(.cancelled, error: String(repeating: "y", count: 4000)), outcome: .cancelled)),
    ]

    @Test("the outcome of an attempt", arguments: cases)
    func outcome(_ row: Case) {
        var generator = SplitMix64(seed: 1)
        let outcome = AttemptOutcome(
            row.ending, id: Self.id, attempt: row.attempt, maxAttempts: row.maxAttempts, retry: Self.policy,
            releasing: row.releasing, using: &generator)
        #expect(outcome == row.expected)
    }

    @Test("the backoff's jitter comes from the generator: the same seed, the same wait, within ±20 %")
    func jitter() throws {
        let policy = RetryPolicy(base: .seconds(10), cap: .seconds(600), jitter: 0.2)
        var delays: Set<Duration> = []
        for seed: UInt64 in 1...20 {
            var first = SplitMix64(seed: seed)
            var second = SplitMix64(seed: seed)
            let a = AttemptOutcome(
                .threw(message: "boom", permanent: false), id: Self.id, attempt: 1, maxAttempts: 3, retry: policy,
                releasing: false, using: &first)
            let b = AttemptOutcome(
                .threw(message: "boom", permanent: false), id: Self.id, attempt: 1, maxAttempts: 3, retry: policy,
                releasing: false, using: &second)
            #expect(a == b)
            let delay = try #require(a.completion?.delay)
            #expect(delay >= .seconds(8) && delay <= .seconds(12))
            delays.insert(delay)
        }
        #expect(delays.count > 1, "the jitter varies with the seed")
    }
}

/// A seeded generator (SplitMix64), so decisions with jitter repeat.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
