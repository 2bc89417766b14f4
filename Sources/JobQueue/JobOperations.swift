public import Foundation
import Persistence
public import PostgresClient

/// What operators do to jobs and queues, shared by `slot-worker jobs …`/`queues …` and the console: filtered
/// lists with keyset pagination, one job with its attempt errors, bulk retry/cancel/delete in batches, queue
/// pause and resume.
///
/// Every statement runs in a transaction of its own with `statement_timeout` set (`SET LOCAL`, through
/// `set_config`), so no operator query can hold a connection or locks for long.
public struct JobOperations: Sendable {
    public let pool: PostgresPool
    /// Limit of each statement.
    public let statementTimeout: Duration

    /// Attempt limits per kind for retries (a retried job keeps its `attempts`, the fencing token, and gets
    /// `max_attempts = attempts + limit`), and the limit of kinds not in it.
    let kindMaxAttempts: [String: Int]
    let defaultMaxAttempts: Int

    /// Rows changed per transaction by bulk actions.
    public static let batchSize = 5000

    /// - Parameter registry: the worker's kinds, for their attempt limits on retry (kinds not registered get
    ///   `defaultMaxAttempts`).
    public init(
        pool: PostgresPool,
        statementTimeout: Duration = .seconds(5),
        registry: JobRegistry = JobRegistry(),
        defaultMaxAttempts: Int = JobRunnerConfiguration.standardMaxAttempts
    ) {
        self.pool = pool
        self.statementTimeout = statementTimeout
        self.kindMaxAttempts = registry.maxAttemptsByKind
        self.defaultMaxAttempts = defaultMaxAttempts
    }

    /// A bulk action and the states it applies to.
    public enum Action: String, Sendable, CaseIterable {
        case retry, cancel, delete

        /// Retry: dead or cancelled jobs. Cancel: unfinished jobs. Delete: every state but running (cancel first).
        public var eligibleStates: [JobState] {
            switch self {
            case .retry: [.dead, .cancelled]
            case .cancel: [.scheduled, .available, .running]
            case .delete: [.scheduled, .available, .succeeded, .dead, .cancelled]
            }
        }
    }

    /// What a bulk action did.
    public struct ActionResult: Sendable, Equatable, Encodable {
        public var action: String
        /// Jobs changed (retried, cancelled or deleted).
        public var changed: Int
        /// Eligible jobs looked at (retries skip jobs whose unique key an unfinished job holds).
        public var seen: Int
        /// Transactions used (each changes at most ``JobOperations/batchSize`` jobs).
        public var batches: Int
    }

    /// Runs `body` in a transaction with the statement timeout set.
    public func withTimeout<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let milliseconds = max(
            1,
            Int(
                statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds
                    / 1_000_000_000_000_000))
        return try await pool.withTransaction { connection in
            _ = try await connection.query(
                "SELECT set_config('statement_timeout', $1, true)", ["\(milliseconds)ms"], operation: "operator.timeout"
            )
            return try await body(connection)
        }
    }

    /// Ids a list page scans at most (its window below the cursor); at 1,000,000 jobs one window reads in tens of
    /// milliseconds (`scripts/bench console`).
    public static let listWindow: Int64 = 50_000

    /// Jobs matching `filter`, newest first: up to `limit` jobs with ids below `before` (0: from the newest job),
    /// found among the `window` ids below it. A filter with ids looks them up directly (no window). Three short
    /// statements in one transaction: the newest id (first page only), the page, and (short pages only) where the
    /// next window starts.
    public func list(
        _ filter: JobFilter, before: Int64 = 0, limit: Int = 50, window: Int64 = JobOperations.listWindow
    ) async throws -> JobPage {
        try await withTimeout { connection in
            let cursor: Int64
            if before > 0 {
                cursor = before
            } else {
                let newest = try await connection.query(OperatorSQL.newestID, operation: "operator.list.newest")
                guard let id = try newest[0].decode("id", as: Int64?.self) else {
                    return JobPage(jobs: [], next: nil, searchedDownTo: nil)
                }
                cursor = id + 1
            }
            let lowest = filter.ids.isEmpty ? max(0, cursor - max(1, window)) : 0
            let jobs = try await connection.query(
                OperatorSQL.list, filter.binds + [cursor, limit, lowest], operation: "operator.list"
            ).map(JobSummary.init(row:))
            if jobs.count == limit, let last = jobs.last {
                return JobPage(jobs: jobs, next: last.id, searchedDownTo: nil)
            }
            guard lowest > 0 else { return JobPage(jobs: jobs, next: nil, searchedDownTo: nil) }
            let older = try await connection.query(
                OperatorSQL.newestIDBelow, [lowest], operation: "operator.list.older")
            guard let id = try older[0].decode("id", as: Int64?.self) else {
                return JobPage(jobs: jobs, next: nil, searchedDownTo: nil)
            }
            return JobPage(jobs: jobs, next: id + 1, searchedDownTo: lowest)
        }
    }

    /// One job with its attempt errors, or nil.
    public func job(id: Int64) async throws -> JobDetail? {
        try await withTimeout { connection in
            let rows = try await connection.query(OperatorSQL.show, [id], operation: "operator.show")
            guard let row = rows.first else { return nil }
            return JobDetail(
                job: try JobTable.decode(row),
                errors: JobDetail.AttemptError.decode(try row.decode("errors_json", as: String.self))
            )
        }
    }

    /// Jobs matching `filter` that `action` would change, counted up to `cap` (a count of `cap` means "at least").
    public func count(_ action: Action, _ filter: JobFilter, cap: Int = 1_000_000) async throws -> Int {
        try await withTimeout { connection in
            let rows = try await connection.query(
                OperatorSQL.countEligible, filter.binds + [action.eligibleStates.map(\.rawValue), cap],
                operation: "operator.count")
            return try rows[0].decode("jobs")
        }
    }

    /// Applies `action` to every eligible job matching `filter`, in transactions of at most ``batchSize`` jobs,
    /// in id order (jobs enqueued meanwhile with higher ids are included; a job locked by a worker at that moment
    /// is skipped). Running jobs that are cancelled are told by NOTIFY.
    public func perform(
        _ action: Action,
        _ filter: JobFilter,
        reason: String? = nil,
        batchSize: Int = JobOperations.batchSize
    ) async throws -> ActionResult {
        var result = ActionResult(action: action.rawValue, changed: 0, seen: 0, batches: 0)
        var cursor: Int64 = 0
        while true {
            let base: [any PostgresEncodable] =
                filter.binds + [action.eligibleStates.map(\.rawValue), cursor, batchSize]
            let (sql, binds): (String, [any PostgresEncodable]) =
                switch action {
                case .retry:
                    (
                        OperatorSQL.retryBatch,
                        base + [
                            JobNotification.channel, kindMaxAttempts.keys.sorted(),
                            kindMaxAttempts.keys.sorted().map { kindMaxAttempts[$0]! }, defaultMaxAttempts,
                        ]
                    )
                case .cancel: (OperatorSQL.cancelBatch, base + [JobNotification.channel, reason])
                case .delete: (OperatorSQL.deleteBatch, base)
                }
            let row = try await withTimeout { connection in
                try await connection.query(sql, binds, operation: "operator.\(action.rawValue)")[0]
            }
            let seen: Int = try row.decode("seen")
            guard seen > 0 else { break }
            result.seen += seen
            result.changed += try row.decode("changed", as: Int.self)
            result.batches += 1
            cursor = try row.decode("cursor")
            if seen < batchSize { break }
        }
        return result
    }

    /// Pauses a queue: no worker claims from it (within one claim round) until it is resumed. Returns false when
    /// it was paused already.
    public func pause(queue: String, by who: String) async throws -> Bool {
        guard !queue.isEmpty, queue.count <= 100 else {
            throw RepositoryError.validation(field: "queue", message: "a queue name has 1 to 100 characters")
        }
        return try await withTimeout { connection in
            try await !connection.query(OperatorSQL.pause, [queue, who], operation: "operator.pause").isEmpty
        }
    }

    /// Resumes a paused queue and wakes its workers. Returns false when it was not paused.
    public func resume(queue: String) async throws -> Bool {
        try await withTimeout { connection in
            let rows = try await connection.query(
                OperatorSQL.resume, [queue, JobNotification.channel], operation: "operator.resume")
            return try rows[0].decode("resumed", as: Int.self) > 0
        }
    }

    /// The paused queues.
    public func pausedQueues() async throws -> [PausedQueue] {
        try await withTimeout { connection in
            try await connection.query(OperatorSQL.pausedQueues, operation: "operator.paused").map { row in
                PausedQueue(
                    queue: try row.decode("queue"), pausedAt: try row.decode("paused_at"),
                    pausedBy: try row.decode("paused_by"))
            }
        }
    }
}

/// A paused queue.
public struct PausedQueue: Sendable, Equatable, Encodable {
    public var queue: String
    public var pausedAt: Date
    public var pausedBy: String?

    public init(queue: String, pausedAt: Date, pausedBy: String?) {
        self.queue = queue
        self.pausedAt = pausedAt
        self.pausedBy = pausedBy
    }
}
