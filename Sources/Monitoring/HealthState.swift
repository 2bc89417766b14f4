import Synchronization

/// The process's readiness, kept current by its parts and read by `/readyz` without touching the database.
///
/// Checks:
/// - named checks (for example `database`), reported with ``update(check:ok:detail:at:)`` by their owners (a database
///   prober). A check declared in `checks` that was never reported fails with "not yet measured"; with `resultMaxAge`
///   set, a result older than that fails as stale (its reporter stopped).
/// - `worker` (when `workerProgressStaleness` is set): fails until ``recordProgress(at:)`` was called, and when the
///   last progress is older than the staleness. The worker loop records progress after every successful poll, idle
///   or not.
/// - `shutdown`: fails once ``markShuttingDown()`` was called (never reverts).
///
/// Ready means every check passes. All methods are thread-safe, cheap and non-blocking (one short lock), so they
/// can be called from libmicrohttpd threads and from async code alike.
///
/// Details are shown to anyone who can reach `/readyz`: callers must pass short, secret-free text. As a safety net,
/// details are cut to ``maxDetailLength`` characters and credentials in URLs (`scheme://user:secret@`) or
/// `password=` pairs are masked.
public final class HealthState: Sendable {
    /// Longest detail kept, in characters.
    public static let maxDetailLength = 200
    /// The name of the worker-progress check.
    public static let workerCheck = "worker"
    /// The name of the shutdown check.
    public static let shutdownCheck = "shutdown"

    private struct Result: Sendable {
        var ok: Bool
        var detail: String
        var at: ContinuousClock.Instant
    }

    private struct State: Sendable {
        var results: [String: Result?]
        var lastProgress: ContinuousClock.Instant?
        var shuttingDown = false
    }

    private let state: Mutex<State>
    private let resultMaxAge: Duration?
    private let workerProgressStaleness: Duration?

    /// - Parameters:
    ///   - checks: names of the checks that must pass (each fails until first reported).
    ///   - resultMaxAge: a reported result older than this fails as stale; nil keeps results valid forever.
    ///   - workerProgressStaleness: enables the `worker` check with this limit; nil disables it.
    public init(
        checks: [String] = ["database"], resultMaxAge: Duration? = nil, workerProgressStaleness: Duration? = nil
    ) {
        var results: [String: Result?] = [:]
        for name in checks { results[name] = .some(nil) }
        self.state = Mutex(State(results: results))
        self.resultMaxAge = resultMaxAge
        self.workerProgressStaleness = workerProgressStaleness
    }

    /// Reports the result of check `check` (a check not declared at init is added).
    public func update(check: String, ok: Bool, detail: String, at instant: ContinuousClock.Instant = .now) {
        let result = Result(ok: ok, detail: Self.sanitized(detail), at: instant)
        self.state.withLock { $0.results[check] = .some(result) }
    }

    /// Records that the worker loop made progress (a successful poll) at `instant`.
    public func recordProgress(at instant: ContinuousClock.Instant = .now) {
        self.state.withLock { state in
            if let last = state.lastProgress, last > instant { return }
            state.lastProgress = instant
        }
    }

    /// Marks the process as shutting down: readiness fails from now on.
    public func markShuttingDown() {
        self.state.withLock { $0.shuttingDown = true }
    }

    /// Whether ``markShuttingDown()`` was called.
    public var isShuttingDown: Bool {
        self.state.withLock { $0.shuttingDown }
    }

    /// Whether every check passes at `instant`.
    public func isReady(at instant: ContinuousClock.Instant = .now) -> Bool {
        self.report(at: instant).isReady
    }

    /// Evaluates all checks at `instant`.
    public func report(at instant: ContinuousClock.Instant = .now) -> ReadinessReport {
        let state = self.state.withLock { $0 }
        var checks: [String: ReadinessReport.Check] = [:]
        for (name, result) in state.results {
            guard let result else {
                checks[name] = ReadinessReport.Check(ok: false, detail: "not yet measured", age: nil)
                continue
            }
            let age = instant - result.at
            if let limit = self.resultMaxAge, age > limit {
                checks[name] = ReadinessReport.Check(
                    ok: false,
                    detail: "stale: last measured \(Self.seconds(age)) s ago (limit \(Self.seconds(limit)) s): "
                        + result.detail,
                    age: age
                )
            } else {
                checks[name] = ReadinessReport.Check(ok: result.ok, detail: result.detail, age: age)
            }
        }
        if let limit = self.workerProgressStaleness {
            if let last = state.lastProgress {
                let age = instant - last
                checks[Self.workerCheck] = ReadinessReport.Check(
                    ok: age <= limit,
                    detail: age <= limit
                        ? "last progress \(Self.seconds(age)) s ago"
                        : "no progress for \(Self.seconds(age)) s (limit \(Self.seconds(limit)) s)",
                    age: age
                )
            } else {
                checks[Self.workerCheck] = ReadinessReport.Check(ok: false, detail: "no progress yet", age: nil)
            }
        }
        checks[Self.shutdownCheck] = ReadinessReport.Check(
            ok: !state.shuttingDown,
            detail: state.shuttingDown ? "shutting down" : "serving",
            age: nil
        )
        return ReadinessReport(checks: checks)
    }

    /// A duration in seconds with one decimal, for details.
    private static func seconds(_ duration: Duration) -> String {
        let tenths = (duration.components.seconds * 10) + duration.components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Cuts `detail` to ``maxDetailLength`` characters and masks credentials that slipped in:
    /// `scheme://user:secret@host` becomes `scheme://***@host`, `password=secret` becomes `password=***`.
    static func sanitized(_ detail: String) -> String {
        let characters = Array(detail.prefix(Self.maxDetailLength))
        let lowercased = characters.map { $0.isASCII ? Character($0.lowercased()) : $0 }
        func matches(_ needle: String, at index: Int) -> Bool {
            let needle = Array(needle)
            return index + needle.count <= lowercased.count && Array(lowercased[index..<index + needle.count]) == needle
        }
        var output: [Character] = []
        var index = 0
        while index < characters.count {
            if matches("://", at: index) {
                output += "://"
                index += 3
                var end = index
                while end < characters.count, !"/?# ".contains(characters[end]) { end += 1 }
                if let at = characters[index..<end].lastIndex(of: "@") {
                    output += "***"
                    index = at
                }
            } else if matches("password=", at: index) {
                output += characters[index..<index + 9]
                output += "***"
                index += 9
                while index < characters.count, !" &,;".contains(characters[index]) { index += 1 }
            } else {
                output.append(characters[index])
                index += 1
            }
        }
        return String(output)
    }
}
