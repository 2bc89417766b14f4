import Foundation
public import Persistence

/// Operator functions behind the CLI: status, inspect, retry, cancel, and bulk enqueue from JSON lines.
public struct JobAdmin: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Counts by kind and state (a full table scan) and the oldest ready job's age.
    /// - Parameter liveWithin: workers seen this recently count as live (for ``QueueStatus/unrunnable``); the
    ///   workers' sampler refreshes their registration every stats interval (``QueueStatsSampler/liveWindow(interval:)``).
    public func status(
        liveWithin: Duration = QueueStatsSampler.liveWindow(interval: QueueStatsSampler.defaultInterval)
    ) async -> Result<QueueStatus, RepositoryError> {
        await database.withJobs { await $0.status(liveWithin: liveWithin) }
    }

    /// One job as stored.
    public func job(id: Int64) async -> Result<Job, RepositoryError> {
        await database.withJobs { await $0.get(id) }
    }

    /// Makes a `dead` or `cancelled` job `available` now with a fresh set of attempts (`last_error` is kept):
    /// `attempts` is kept (the fencing token never repeats) and `max_attempts` raised by the kind's limit from
    /// `registry` (else `defaultMaxAttempts`).
    ///
    /// - Returns: `.notFound`; `.validation(field: "state")` for other states; `.conflict` when an unfinished job
    ///   holds its unique key.
    public func retry(
        id: Int64,
        registry: JobRegistry = JobRegistry(),
        defaultMaxAttempts: Int = JobRunnerConfiguration.standardMaxAttempts
    ) async -> Result<Job, RepositoryError> {
        await database.withJobs {
            await $0.retry(
                id: id, kindMaxAttempts: registry.maxAttemptsByKind, defaultMaxAttempts: defaultMaxAttempts)
        }
    }

    /// Cancels an unfinished job; returns the state it was in.
    ///
    /// `scheduled`/`available` jobs never run. A `running` job is marked `cancelled` at once and its worker stops
    /// the handler (NOTIFY, or at its next heartbeat); side effects the attempt already made stay. `reason` is kept
    /// in `last_error`.
    ///
    /// - Returns: `.notFound`; `.validation(field: "state")` for a finished job.
    public func cancel(id: Int64, reason: String? = nil) async -> Result<JobState, RepositoryError> {
        do {
            return try await database.withUnitOfWork { uow in
                let result = await uow.jobs.cancel(id: id, reason: reason)
                if case .success = result { try await uow.commit() }
                return result
            }
        } catch let error as RepositoryError {
            return .failure(error)
        } catch {
            return .failure(RepositoryError(error, operation: "jobs.cancel"))
        }
    }

    /// Parses JSON lines (see ``parseJSONLines(_:)``) and enqueues them atomically.
    public func enqueue(jsonLines text: String) async -> Result<[EnqueuedJob], RepositoryError> {
        let jobs: [NewJob]
        do {
            jobs = try Self.parseJSONLines(text)
        } catch {
            return .failure(error)
        }
        return await JobQueueClient(database: database).enqueue(jobs)
    }

    /// The keys a JSON line may have.
    public static let jsonLineKeys: Set<String> = [
        "kind", "payload", "queue", "priority", "run_at", "delay_seconds", "max_attempts", "unique_key",
    ]

    /// Parses one job per non-blank line:
    /// `{"kind":"sleep","payload":{"milliseconds":50},"queue":"default","priority":0,"run_at":"2026-01-01T10:00:00Z",
    /// "delay_seconds":5,"max_attempts":3,"unique_key":"k"}` — only `kind` is required; `run_at` (ISO 8601) and
    /// `delay_seconds` exclude each other.
    ///
    /// - Throws: `.validation(field: "line N", …)` naming the first bad line and what is wrong with it.
    public static func parseJSONLines(_ text: String) throws(RepositoryError) -> [NewJob] {
        var jobs: [NewJob] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            do {
                jobs.append(try parseLine(trimmed))
            } catch {
                throw .validation(field: "line \(offset + 1)", message: error.message)
            }
        }
        return jobs
    }

    private struct LineError: Error {
        var message: String
    }

    private static func parseLine(_ line: String) throws(LineError) -> NewJob {
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8))
        } catch {
            throw LineError(message: "not a JSON object: \(JobRegistry.describe(error))")
        }
        if let unknown = Set(object.keys).subtracting(jsonLineKeys).sorted().first {
            throw LineError(
                message: "unknown key \"\(unknown)\" (allowed: \(jsonLineKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(LineError) -> String? {
            switch object[key] {
            case nil, .null: return nil
            case .string(let value): return value
            default: throw LineError(message: "\"\(key)\" must be a string")
            }
        }
        func integer(_ key: String) throws(LineError) -> Int? {
            switch object[key] {
            case nil, .null: return nil
            case .integer(let value): return Int(value)
            default: throw LineError(message: "\"\(key)\" must be an integer")
            }
        }
        guard let kind = try string("kind") else { throw LineError(message: "\"kind\" is required") }
        var schedule = NewJob.Schedule.now
        if let text = try string("run_at") {
            guard let date = parseDate(text) else {
                throw LineError(message: "\"run_at\" must be an ISO 8601 date-time such as 2026-01-01T10:00:00Z")
            }
            schedule = .at(date)
        }
        switch object["delay_seconds"] {
        case nil, .null:
            break
        case .integer(let value) where value >= 0:
            guard case .now = schedule else { throw LineError(message: "give either \"run_at\" or \"delay_seconds\"") }
            schedule = .after(.seconds(value))
        case .number(let value) where value >= 0:
            guard case .now = schedule else { throw LineError(message: "give either \"run_at\" or \"delay_seconds\"") }
            schedule = .after(.milliseconds(Int64(value * 1000)))
        default:
            throw LineError(message: "\"delay_seconds\" must be a non-negative number")
        }
        let payload: String
        do {
            payload = String(decoding: try NewJob.encoder.encode(object["payload"] ?? .object([:])), as: UTF8.self)
        } catch {
            throw LineError(message: "cannot encode \"payload\": \(error)")
        }
        let job = NewJob(
            kind: kind,
            json: payload,
            queue: try string("queue") ?? "default",
            priority: try integer("priority") ?? 0,
            schedule: schedule,
            maxAttempts: try integer("max_attempts"),
            uniqueKey: try string("unique_key")
        )
        do {
            try job.validate()
        } catch {
            throw LineError(message: "\"\(error.field)\": \(error.message)")
        }
        return job
    }

    private static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
