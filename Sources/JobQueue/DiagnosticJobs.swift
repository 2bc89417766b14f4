/// Built-in job kinds for checking a deployment end to end (`slot-worker enqueue noop`, load tests, alert drills).
///
/// | kind | payload | does |
/// |---|---|---|
/// | `noop` | `{}` | succeeds at once |
/// | `sleep` | `{"milliseconds": 250}` | sleeps (honoring cancellation), then succeeds |
/// | `fail` | `{"message": "boom", "permanent": false}` | throws: retried with backoff, or dead at once when permanent |
///
/// None of them uses the database, so they run up to the runner's full concurrency.
public enum DiagnosticJobs {
    /// `noop`'s payload: any JSON object.
    public struct NoopPayload: Codable, Sendable, Equatable {
        public init() {}
    }

    /// `sleep`'s payload.
    public struct SleepPayload: Codable, Sendable, Equatable {
        public var milliseconds: Int
        public init(milliseconds: Int) { self.milliseconds = milliseconds }
    }

    /// `fail`'s payload.
    public struct FailPayload: Codable, Sendable, Equatable {
        public var message: String
        public var permanent: Bool?
        public init(message: String, permanent: Bool = false) {
            self.message = message
            self.permanent = permanent
        }
    }

    /// The error `fail` throws for a non-permanent failure.
    public struct DiagnosticFailure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static let noop = JobKind<NoopPayload>("noop")
    public static let sleep = JobKind<SleepPayload>("sleep")
    public static let fail = JobKind<FailPayload>("fail")

    static func register(in registry: inout JobRegistry) {
        registry.register(noop, usesDatabase: false) { _, _ in .success }
        registry.register(sleep, usesDatabase: false) { payload, _ in
            try await Task.sleep(for: .milliseconds(max(0, payload.milliseconds)))
            return .success
        }
        registry.register(fail, usesDatabase: false) { payload, _ in
            if payload.permanent == true { throw JobError.permanent(payload.message) }
            throw DiagnosticFailure(description: payload.message)
        }
    }
}
