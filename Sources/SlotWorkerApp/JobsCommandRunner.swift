import Foundation
import JobQueue
public import Logging
import Persistence
import PostgresClient
import Tasks

/// The operator commands on the queue: enqueue, bulk enqueue, status, list, show, retry, cancel, delete, queue
/// pause and resume.
///
/// Each opens a small pool (from the whole configuration: connect and acquire timeouts included), does one thing,
/// returns a human-readable (or JSON) answer and closes the pool.
public struct JobsCommandRunner {
    let database: Database
    /// The worker's kinds, for their attempt limits (`jobs retry`); nothing is run here.
    let registry: JobRegistry
    let operations: JobOperations
    /// Workers seen this recently count as live (from the configured stats interval, as the workers' samplers).
    let liveWithin: Duration

    /// Connects lazily: no connection is opened until the first statement.
    public init(configuration: SlotWorkerConfiguration, logger: Logger) throws {
        database = Database(
            pool: PostgresPool(
                configuration: try configuration.postgresConfiguration(),
                options: configuration.poolOptions(maxConnections: 1),
                logger: logger
            ),
            logger: logger
        )
        liveWithin = QueueStatsSampler.liveWindow(interval: configuration.statsInterval)
        var registry = JobRegistry()
        SlotTasks.register(
            in: &registry, database: database, sender: LoggingMessageSender(logger: logger),
            settings: configuration.reminders)
        self.registry = registry
        operations = JobOperations(
            pool: database.pool, statementTimeout: configuration.consoleStatementTimeout * 15, registry: registry)
    }

    /// Closes the pool.
    public func close() async { await database.pool.close() }

    /// A command-line mistake, reported without touching the database.
    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Enqueues one job; returns the line to print.
    public func enqueue(
        kind: String,
        payload: String?,
        runAt: String?,
        uniqueKey: String?,
        priority: Int,
        queue: String,
        maxAttempts: Int?
    ) async throws -> String {
        let json = payload ?? "{}"
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) != nil else {
            throw UsageError(description: "--payload is not valid JSON: \(json.prefix(80))")
        }
        let schedule = try runAt.map(Self.parseSchedule) ?? .now
        let job = NewJob(
            kind: kind,
            json: json,
            queue: queue,
            priority: priority,
            schedule: schedule,
            maxAttempts: maxAttempts,
            uniqueKey: uniqueKey
        )
        let enqueued = try await JobQueueClient(database: database).enqueue(job).get()
        return enqueued.isDuplicate
            ? "job \(enqueued.id) already exists with unique key \(uniqueKey ?? "")" : "enqueued job \(enqueued.id)"
    }

    /// Enqueues JSON lines (one job per line) in one transaction; returns the line to print.
    public func enqueue(jsonLines: String) async throws -> String {
        do {
            _ = try JobAdmin.parseJSONLines(jsonLines)
        } catch {
            throw UsageError(description: error.description)
        }
        let jobs = try await JobAdmin(database: database).enqueue(jsonLines: jsonLines).get()
        let duplicates = jobs.filter(\.isDuplicate).count
        return "enqueued \(jobs.count - duplicates) jobs" + (duplicates > 0 ? " (\(duplicates) already existed)" : "")
    }

    /// `jobs status`: counts by state and kind, the oldest ready age and the ready jobs no live worker runs, as
    /// text or JSON.
    public func status(json: Bool) async throws -> String {
        let status = try await JobAdmin(database: database).status(liveWithin: liveWithin).get()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            return String(decoding: try encoder.encode(status), as: UTF8.self)
        }
        var lines = ["state        jobs"]
        for (state, count) in status.byState.sorted(by: { $0.key < $1.key }) {
            lines.append(state.padding(toLength: 12, withPad: " ", startingAt: 0) + " \(count)")
        }
        lines.append("oldest ready job: \(String(format: "%.1f", status.oldestReadyAgeSeconds)) s")
        if !status.byKind.isEmpty {
            lines.append("")
            lines.append("kind                            by state")
            for (kind, states) in status.byKind.sorted(by: { $0.key < $1.key }) {
                let counts = states.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                lines.append(kind.padding(toLength: 31, withPad: " ", startingAt: 0) + " " + counts)
            }
        }
        if !status.unrunnable.isEmpty {
            lines.append("")
            lines.append("ready jobs no live worker runs (none registered the kind in the last \(liveWithin)):")
            for (queue, kinds) in status.unrunnable.sorted(by: { $0.key < $1.key }) {
                let counts = kinds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                lines.append("queue " + queue + ": " + counts)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The jobs a command means: `--state` (comma-separated), `--kind`, `--queue` and ids.
    public struct Selection: Sendable {
        let filter: JobFilter

        /// - Throws: ``UsageError`` for an unknown state name.
        public init(states: String?, kind: String?, queue: String?, ids: [Int64]) throws {
            var parsed: [JobState] = []
            for name in (states ?? "").split(separator: ",") {
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                guard let state = JobState(rawValue: trimmed) else {
                    throw UsageError(
                        description: "--state \"\(trimmed)\" is not one of "
                            + JobState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                parsed.append(state)
            }
            filter = JobFilter(states: parsed, kind: kind, queue: queue, ids: ids)
        }
    }

    /// `jobs retry`, `jobs cancel`, `jobs delete`.
    public func retry(_ selection: Selection, json: Bool) async throws -> String {
        try await perform(.retry, selection.filter, json: json)
    }

    public func cancel(_ selection: Selection, json: Bool) async throws -> String {
        try await perform(.cancel, selection.filter, json: json)
    }

    public func delete(_ selection: Selection, json: Bool) async throws -> String {
        try await perform(.delete, selection.filter, json: json)
    }

    /// `jobs list`: newest first, `limit` jobs with ids below `before` (0: from the newest). The pages of
    /// ``JobOperations/list(_:before:limit:window:)`` scan bounded windows of ids; the command keeps searching older
    /// windows (one short transaction each) until it has `limit` jobs or reached the oldest job.
    public func list(_ selection: Selection, before: Int64, limit: Int, json: Bool) async throws -> String {
        var jobs: [JobSummary] = []
        var page = try await operations.list(selection.filter, before: before, limit: limit)
        jobs += page.jobs
        while jobs.count < limit, let next = page.next {
            page = try await operations.list(selection.filter, before: next, limit: limit - jobs.count)
            jobs += page.jobs
        }
        if json { return try Self.json(jobs) }
        guard !jobs.isEmpty else { return "no jobs match" }
        var lines = ["id         state      queue        kind                      attempts  run_at / finished_at"]
        for job in jobs {
            lines.append(
                [
                    String(job.id).padding(toLength: 10, withPad: " ", startingAt: 0),
                    job.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                    job.queue.padding(toLength: 12, withPad: " ", startingAt: 0),
                    job.kind.padding(toLength: 25, withPad: " ", startingAt: 0),
                    "\(job.attempts)/\(job.maxAttempts.map(String.init) ?? "-")".padding(
                        toLength: 9, withPad: " ", startingAt: 0),
                    Self.time(job.finishedAt ?? job.runAt),
                ].joined(separator: " ")
            )
        }
        if let next = page.next {
            lines.append("more: add --before \(next)")
        }
        return lines.joined(separator: "\n")
    }

    /// `jobs show ID`: every column, the errors of each attempt; the payload only with `showPayload`.
    public func show(id: Int64, showPayload: Bool, json: Bool) async throws -> String {
        guard let detail = try await operations.job(id: id) else {
            throw RepositoryError.notFound(entity: JobTable.entityName, id: String(id))
        }
        let job = detail.job
        if json {
            struct Shown: Encodable {
                var id: Int64
                var kind, queue, state: String
                var priority, attempts: Int
                var maxAttempts: Int?
                var runAt, createdAt: Date
                var attemptedAt, finishedAt: Date?
                var lockedBy, uniqueKey, lastError, payload: String?
                var errors: [JobDetail.AttemptError]
            }
            return try Self.json(
                Shown(
                    id: job.id, kind: job.kind, queue: job.queue, state: job.state.rawValue, priority: job.priority,
                    attempts: job.attempts, maxAttempts: job.maxAttempts, runAt: job.runAt, createdAt: job.createdAt,
                    attemptedAt: job.attemptedAt, finishedAt: job.finishedAt, lockedBy: job.lockedBy,
                    uniqueKey: job.uniqueKey, lastError: job.lastError, payload: showPayload ? job.payload : nil,
                    errors: detail.errors))
        }
        var lines = [
            "job \(job.id): \(job.kind) in queue \(job.queue), \(job.state.rawValue)",
            "attempts:   \(job.attempts) of \(job.maxAttempts.map(String.init) ?? "the kind's limit")",
            "priority:   \(job.priority)",
            "created:    \(Self.time(job.createdAt))",
            "run at:     \(Self.time(job.runAt))",
        ]
        if let attempted = job.attemptedAt { lines.append("attempted:  \(Self.time(attempted))") }
        if let finished = job.finishedAt { lines.append("finished:   \(Self.time(finished))") }
        if let worker = job.lockedBy { lines.append("running on: \(worker)") }
        if let key = job.uniqueKey { lines.append("unique key: \(key)") }
        if let error = job.lastError { lines.append("last error: \(error)") }
        for error in detail.errors {
            lines.append("attempt \(error.attempt) failed at \(Self.time(error.at)): \(error.error)")
        }
        lines.append(showPayload ? "payload:    \(job.payload)" : "payload:    (hidden; pass --payload)")
        return lines.joined(separator: "\n")
    }

    /// `jobs retry|cancel|delete`: by ids or by filter, in batches of at most ``JobOperations/batchSize``.
    func perform(_ action: JobOperations.Action, _ filter: JobFilter, json: Bool) async throws -> String {
        guard !filter.matchesEverything else {
            throw UsageError(
                description: "jobs \(action.rawValue) needs job ids or a filter (--state, --kind, --queue); "
                    + "to act on every job, pass --state explicitly")
        }
        if filter.ids.count == 1, filter.states.isEmpty, filter.kind == nil, filter.queue == nil {
            let id = filter.ids[0]
            switch action {
            case .retry:
                let job = try await JobAdmin(database: database).retry(id: id, registry: registry).get()
                return "job \(job.id) is \(job.state.rawValue) again (kind \(job.kind))"
            case .cancel:
                let previous = try await JobAdmin(database: database).cancel(id: id, reason: "cancelled by operator")
                    .get()
                return "job \(id) cancelled (was \(previous.rawValue))"
            case .delete:
                break
            }
        }
        let result = try await operations.perform(action, filter, reason: "cancelled by operator")
        if json { return try Self.json(result) }
        let verb = ["retry": "retried", "cancel": "cancelled", "delete": "deleted"][action.rawValue]!
        return "\(verb) \(result.changed) of \(result.seen) eligible jobs in \(result.batches) transactions"
    }

    /// `queues pause NAME` / `queues resume NAME`.
    public func setPaused(_ paused: Bool, queue: String) async throws -> String {
        if paused {
            let changed = try await operations.pause(queue: queue, by: "cli")
            return changed ? "queue \(queue) paused" : "queue \(queue) was paused already"
        }
        let changed = try await operations.resume(queue: queue)
        return changed ? "queue \(queue) resumed" : "queue \(queue) was not paused"
    }

    /// `queues list`: the paused queues.
    public func pausedQueues() async throws -> String {
        let paused = try await operations.pausedQueues()
        guard !paused.isEmpty else { return "no queue is paused" }
        return paused.map { "\($0.queue) paused since \(Self.time($0.pausedAt)) by \($0.pausedBy ?? "?")" }
            .joined(separator: "\n")
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    /// `--run-at`: an ISO 8601 time (`2026-11-27T10:00:00Z`) or a delay from now (`+30s`, `+5m`, `+2h`).
    static func parseSchedule(_ text: String) throws -> NewJob.Schedule {
        if text.hasPrefix("+"), let unit = text.last, let amount = Int(text.dropFirst().dropLast()), amount >= 0 {
            switch unit {
            case "s": return .after(.seconds(amount))
            case "m": return .after(.seconds(amount * 60))
            case "h": return .after(.seconds(amount * 3600))
            default: break
            }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return .at(date) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return .at(date) }
        throw UsageError(
            description: "--run-at \"\(text)\" is neither an ISO 8601 time nor a delay like +30s, +5m, +2h")
    }
}
