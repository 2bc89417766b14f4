public import Foundation
import PostgresClient

/// A job to enqueue: kind, JSON payload and scheduling options.
public struct NewJob: Sendable, Equatable {
    /// When a new job may first run.
    public enum Schedule: Sendable, Equatable {
        /// As soon as a runner is free.
        case now
        /// At this instant (by the database clock when it is in the past, the job is ready at once).
        case at(Date)
        /// This long after the enqueuing statement runs, measured by the database clock.
        case after(Duration)
    }

    public var kind: String
    /// The payload as JSON text (any JSON value; validated by PostgreSQL on insert).
    public var payloadJSON: String
    public var queue: String
    /// Lower runs first among ready jobs of the same queue; must fit a smallint.
    public var priority: Int
    public var schedule: Schedule
    /// Attempt limit for this job; nil uses the kind's registered limit, else the runner's default.
    public var maxAttempts: Int?
    /// While a job with this key is unfinished (scheduled, available or running), enqueueing another one with the
    /// same key returns the existing job instead.
    public var uniqueKey: String?

    /// A job with a payload encoded as JSON (sorted keys, ISO 8601 dates).
    ///
    /// - Throws: `EncodingError` when the payload cannot be encoded.
    public init<Payload: Encodable>(
        kind: String,
        payload: Payload,
        queue: String = "default",
        priority: Int = 0,
        schedule: Schedule = .now,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil
    ) throws {
        let data = try NewJob.encoder.encode(payload)
        self.init(
            kind: kind,
            json: String(decoding: data, as: UTF8.self),
            queue: queue,
            priority: priority,
            schedule: schedule,
            maxAttempts: maxAttempts,
            uniqueKey: uniqueKey
        )
    }

    /// A job of a typed kind.
    public init<Payload>(
        _ kind: JobKind<Payload>,
        payload: Payload,
        queue: String = "default",
        priority: Int = 0,
        schedule: Schedule = .now,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil
    ) throws {
        try self.init(
            kind: kind.name,
            payload: payload,
            queue: queue,
            priority: priority,
            schedule: schedule,
            maxAttempts: maxAttempts,
            uniqueKey: uniqueKey
        )
    }

    /// A job whose payload is already JSON text.
    public init(
        kind: String,
        json: String = "{}",
        queue: String = "default",
        priority: Int = 0,
        schedule: Schedule = .now,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil
    ) {
        self.kind = kind
        self.payloadJSON = json
        self.queue = queue
        self.priority = priority
        self.schedule = schedule
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
    }

    /// Checks what the schema would reject, with a message naming the field.
    func validate() throws(ValidationFailure) {
        if kind.isEmpty || kind.count > 100 {
            throw ValidationFailure(
                field: "kind", message: "kind must be 1 to 100 characters, got \"\(kind.prefix(120))\"")
        }
        if queue.isEmpty || queue.count > 100 {
            throw ValidationFailure(field: "queue", message: "queue must be 1 to 100 characters")
        }
        if Int16(exactly: priority) == nil {
            throw ValidationFailure(field: "priority", message: "priority \(priority) does not fit a smallint")
        }
        if let maxAttempts, maxAttempts < 1 {
            throw ValidationFailure(
                field: "max_attempts", message: "max_attempts must be at least 1, got \(maxAttempts)")
        }
        if uniqueKey?.isEmpty == true {
            throw ValidationFailure(field: "unique_key", message: "unique_key must not be empty (use nil for none)")
        }
    }

    struct ValidationFailure: Error {
        var field: String
        var message: String
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
