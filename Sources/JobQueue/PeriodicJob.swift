public import Foundation

/// A job enqueued once per scheduled instant, by whichever worker gets there first.
///
/// The schedule is a fixed period aligned to the Unix epoch (with `every: .seconds(3600)` runs start on the hour,
/// UTC) or a cron expression in a time zone (see ``PeriodicSchedule`` and ``CronSchedule``). The instant is recorded
/// in `periodic_runs`, whose primary key lets exactly one enqueue per instant succeed across any number of workers,
/// without a leader.
public struct PeriodicJob: Sendable, Equatable {
    /// Identifies the schedule in `periodic_runs` (default: the kind). Two schedules of one kind need two names.
    public var name: String
    public var kind: String
    public var payloadJSON: String
    public var schedule: PeriodicSchedule
    public var queue: String
    public var priority: Int
    public var maxAttempts: Int?

    public init(
        kind: String,
        json: String = "{}",
        schedule: PeriodicSchedule,
        name: String? = nil,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int? = nil
    ) {
        if case .every(let every) = schedule {
            precondition(
                every >= .seconds(1) && every.components.attoseconds == 0,
                "a periodic job's period must be a whole number of seconds"
            )
        }
        self.name = name ?? kind
        self.kind = kind
        self.payloadJSON = json
        self.schedule = schedule
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
    }

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
        self.init(
            kind: kind, json: json, schedule: .every(every), name: name, queue: queue, priority: priority,
            maxAttempts: maxAttempts)
    }

    /// A periodic job of a typed kind, its payload encoded as JSON.
    public init<Payload>(
        _ kind: JobKind<Payload>,
        payload: Payload,
        schedule: PeriodicSchedule,
        name: String? = nil,
        queue: String = "default",
        priority: Int = 0,
        maxAttempts: Int? = nil
    ) throws {
        let json = String(decoding: try NewJob.encoder.encode(payload), as: UTF8.self)
        self.init(
            kind: kind.name, json: json, schedule: schedule, name: name, queue: queue, priority: priority,
            maxAttempts: maxAttempts)
    }

    /// The start of the fixed period containing `date`.
    ///
    /// - Precondition: the schedule is a fixed period.
    public func periodStart(containing date: Date) -> Date {
        guard case .every = schedule, let start = schedule.due(at: date) else {
            preconditionFailure("periodStart(containing:) needs a fixed period")
        }
        return start
    }
}
