public import Foundation

/// A job enqueued once per period, by whichever worker gets there first.
///
/// Periods are aligned to the Unix epoch: with `every: .seconds(3600)` they start on the hour (UTC). The period
/// start is recorded in `periodic_runs`, whose primary key lets exactly one enqueue per period succeed across any
/// number of workers, without a leader; the job gets the unique key `periodic:<name>:<period-start-epoch>`.
public struct PeriodicJob: Sendable, Equatable {
    /// Identifies the schedule in `periodic_runs` (default: the kind). Two schedules of one kind need two names.
    public var name: String
    public var kind: String
    public var payloadJSON: String
    /// The period: a whole number of seconds, at least one.
    public var every: Duration
    public var queue: String
    public var priority: Int
    public var maxAttempts: Int?

    /// - Precondition: `every` is a whole number of seconds, at least 1.
    public init(
        kind: String,
        json: String = "{}",
        every: Duration,
        name: String? = nil,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int? = nil
    ) {
        precondition(
            every >= .seconds(1) && every.components.attoseconds == 0,
            "a periodic job's period must be a whole number of seconds"
        )
        self.name = name ?? kind
        self.kind = kind
        self.payloadJSON = json
        self.every = every
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
    }

    /// A periodic job with a payload encoded as JSON.
    public init<Payload: Encodable>(
        kind: String,
        payload: Payload,
        every: Duration,
        name: String? = nil,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int? = nil
    ) throws {
        let json = String(decoding: try NewJob.encoder.encode(payload), as: UTF8.self)
        self.init(
            kind: kind,
            json: json,
            every: every,
            name: name,
            queue: queue,
            priority: priority,
            maxAttempts: maxAttempts
        )
    }

    /// A periodic job of a typed kind.
    public init<Payload>(
        _ kind: JobKind<Payload>,
        payload: Payload,
        every: Duration,
        name: String? = nil,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int? = nil
    ) throws {
        try self.init(
            kind: kind.name,
            payload: payload,
            every: every,
            name: name,
            queue: queue,
            priority: priority,
            maxAttempts: maxAttempts
        )
    }

    /// The start of the period containing `date`.
    public func periodStart(containing date: Date) -> Date {
        let period = every.components.seconds
        let epoch = Int64(date.timeIntervalSince1970.rounded(.down))
        let start = epoch - ((epoch % period) + period) % period
        return Date(timeIntervalSince1970: TimeInterval(start))
    }
}
