public import Foundation
import PostgresClient

/// A job as lists show it (the error clipped to 300 characters, no payload).
public struct JobSummary: Sendable, Equatable, Encodable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var state: JobState
    public var priority: Int
    public var attempts: Int
    public var maxAttempts: Int?
    public var runAt: Date
    public var createdAt: Date
    public var attemptedAt: Date?
    public var finishedAt: Date?
    public var lockedBy: String?
    public var lastError: String?

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        kind = try row.decode("kind")
        queue = try row.decode("queue")
        state = try row.decode("state")
        priority = try row.decode("priority")
        attempts = try row.decode("attempts")
        maxAttempts = try row.decode("max_attempts")
        runAt = try row.decode("run_at")
        createdAt = try row.decode("created_at")
        attemptedAt = try row.decode("attempted_at")
        finishedAt = try row.decode("finished_at")
        lockedBy = try row.decode("locked_by")
        lastError = try row.decode("last_error")
    }
}
