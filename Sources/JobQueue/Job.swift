public import Foundation

/// One row of `jobs`, as stored.
public struct Job: Sendable, Equatable {
    /// Generated id; 0 before the row was inserted.
    public var id: Int64
    /// Selects the handler.
    public var kind: String
    /// The queue a runner serves (`default` unless set).
    public var queue: String
    public var state: JobState
    /// Lower runs first among ready jobs of a queue (smallint).
    public var priority: Int
    /// The payload as JSON text.
    public var payload: String
    /// Attempts started so far (a claim counts one; a snooze or a release at shutdown gives it back).
    public var attempts: Int
    /// Attempt limit; nil means the kind's registered limit, else the runner's default.
    public var maxAttempts: Int?
    /// When the job may run (next attempt for retries).
    public var runAt: Date
    /// The worker holding the lease while running.
    public var lockedBy: String?
    /// When the lease lapses unless renewed.
    public var leaseExpiresAt: Date?
    /// The last failure, kept after later attempts and on success.
    public var lastError: String?
    /// Deduplication key among unfinished jobs.
    public var uniqueKey: String?
    public var createdAt: Date
    /// When the last attempt started.
    public var attemptedAt: Date?
    /// When it reached `succeeded`, `dead` or `cancelled`.
    public var finishedAt: Date?

    public init(
        id: Int64 = 0,
        kind: String,
        queue: String = "default",
        state: JobState = .available,
        priority: Int = 0,
        payload: String = "{}",
        attempts: Int = 0,
        maxAttempts: Int? = nil,
        runAt: Date = Date(),
        lockedBy: String? = nil,
        leaseExpiresAt: Date? = nil,
        lastError: String? = nil,
        uniqueKey: String? = nil,
        createdAt: Date = Date(),
        attemptedAt: Date? = nil,
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.state = state
        self.priority = priority
        self.payload = payload
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.lockedBy = lockedBy
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.uniqueKey = uniqueKey
        self.createdAt = createdAt
        self.attemptedAt = attemptedAt
        self.finishedAt = finishedAt
    }
}
