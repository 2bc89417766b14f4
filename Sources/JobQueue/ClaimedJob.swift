public import Foundation
import PostgresClient

/// A job a worker claimed: its row as of the claim, with the attempt that the claim started.
public struct ClaimedJob: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var priority: Int
    /// The payload as JSON text.
    public var payload: String
    /// The attempt this claim started (1 for the first run).
    public var attempt: Int
    /// The row's own limit; nil means the kind's registered limit, else the runner's default.
    public var maxAttempts: Int?
    /// When the job became due (enqueue time, or the scheduled time of a delayed job or retry).
    public var runAt: Date
    public var createdAt: Date
    public var uniqueKey: String?
    /// From `run_at` to the claim, by the database clock.
    public var wait: Duration

    public init(
        id: Int64,
        kind: String,
        queue: String = "default",
        priority: Int = 0,
        payload: String = "{}",
        attempt: Int = 1,
        maxAttempts: Int? = nil,
        runAt: Date = Date(),
        createdAt: Date = Date(),
        uniqueKey: String? = nil,
        wait: Duration = .zero
    ) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.priority = priority
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.createdAt = createdAt
        self.uniqueKey = uniqueKey
        self.wait = wait
    }

    /// Decodes a row of `JobSQL.claim`'s RETURNING list by position (the claim is the hot path).
    init(claimRow row: PostgresRow) throws {
        self.init(
            id: try row.decode(at: 0),
            kind: try row.decode(at: 1),
            queue: try row.decode(at: 2),
            priority: try row.decode(at: 3),
            payload: try row.decode(at: 4),
            attempt: try row.decode(at: 5),
            maxAttempts: try row.decode(at: 6, as: Int?.self),
            runAt: Date(timeIntervalSince1970: try row.decode(at: 7, as: Double.self)),
            createdAt: Date(timeIntervalSince1970: try row.decode(at: 8, as: Double.self)),
            uniqueKey: try row.decode(at: 9, as: String?.self),
            wait: .seconds(try row.decode(at: 10, as: Double.self))
        )
    }
}
