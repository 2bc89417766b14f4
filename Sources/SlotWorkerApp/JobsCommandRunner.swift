import Foundation
import JobQueue
public import Logging
import Persistence
public import PostgresClient

/// The operator commands on the queue: enqueue, bulk enqueue, status, retry, cancel.
///
/// Each opens a small pool, does one thing, prints a human-readable (or JSON) answer and closes the pool.
public struct JobsCommandRunner {
    let database: Database

    /// Connects lazily: no connection is opened until the first statement.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        database = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 1), logger: logger),
            logger: logger
        )
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
        let jobs = try await JobAdmin(database: database).enqueue(jsonLines: jsonLines).get()
        let duplicates = jobs.filter(\.isDuplicate).count
        return "enqueued \(jobs.count - duplicates) jobs" + (duplicates > 0 ? " (\(duplicates) already existed)" : "")
    }

    /// `jobs status`: counts by state and kind and the oldest ready age, as text or JSON.
    public func status(json: Bool) async throws -> String {
        let status = try await JobAdmin(database: database).status().get()
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
        return lines.joined(separator: "\n")
    }

    /// `jobs retry ID`.
    public func retry(id: Int64) async throws -> String {
        let job = try await JobAdmin(database: database).retry(id: id).get()
        return "job \(job.id) is \(job.state.rawValue) again (kind \(job.kind))"
    }

    /// `jobs cancel ID`.
    public func cancel(id: Int64) async throws -> String {
        let previous = try await JobAdmin(database: database).cancel(id: id, reason: "cancelled by operator").get()
        return "job \(id) cancelled (was \(previous.rawValue))"
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
