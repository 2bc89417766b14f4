public import PostgresClient

/// The lifecycle state of a job row (`jobs.state`).
///
/// ```
/// scheduled ──(run_at reached)──▶ available ──(claim)──▶ running ──▶ succeeded | dead | cancelled
///     ▲                               ▲                     │
///     └──── retry / snooze ───────────┴── release, rescue ──┘
/// ```
public enum JobState: String, Sendable, CaseIterable, Codable, PostgresEncodable, PostgresDecodable {
    /// Waiting for its `run_at` (delayed job, retry backoff, snooze).
    case scheduled
    /// Ready to be claimed.
    case available
    /// Leased by one worker, which renews the lease while the handler runs.
    case running
    /// Finished successfully.
    case succeeded
    /// Finished without success: out of attempts, failed permanently, or an undecodable payload.
    case dead
    /// Cancelled by an operator or by its handler.
    case cancelled

    /// True for the states a job never leaves on its own (`succeeded`, `dead`, `cancelled`).
    public var isFinished: Bool {
        switch self {
        case .succeeded, .dead, .cancelled: true
        case .scheduled, .available, .running: false
        }
    }

    public func postgresBind() throws -> PostgresBind { try rawValue.postgresBind() }

    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let state = JobState(rawValue: text) else {
            throw PostgresDecodingFailure("unknown job state \"\(text)\"")
        }
        self = state
    }
}
