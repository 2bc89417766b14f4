public import Foundation
public import Logging

/// What a handler knows about the attempt it runs.
public struct JobContext: Sendable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var priority: Int
    /// This attempt's number, 1 for the first run.
    public var attempt: Int
    /// The attempt limit in force (row, kind, or runner default).
    public var maxAttempts: Int
    /// When the job became due.
    public var runAt: Date
    public var createdAt: Date
    public var uniqueKey: String?
    /// The worker running the attempt.
    public var workerID: String
    /// The runner's logger, without job metadata.
    public var baseLogger: Logger

    /// A logger with `job.id`, `job.kind` and `job.attempt` metadata (built on each access: keep it in a local
    /// when logging several times).
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "job.id"] = "\(id)"
        logger[metadataKey: "job.kind"] = "\(kind)"
        logger[metadataKey: "job.attempt"] = "\(attempt)"
        return logger
    }

    /// True when a failure of this attempt makes the job `dead`.
    public var isLastAttempt: Bool { attempt >= maxAttempts }

    public init(
        id: Int64,
        kind: String,
        queue: String = "default",
        priority: Int = 0,
        attempt: Int = 1,
        maxAttempts: Int = 1,
        runAt: Date = Date(),
        createdAt: Date = Date(),
        uniqueKey: String? = nil,
        workerID: String = "test",
        logger: Logger
    ) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.createdAt = createdAt
        self.uniqueKey = uniqueKey
        self.workerID = workerID
        self.baseLogger = logger
    }
}
