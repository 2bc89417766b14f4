import Foundation
public import PostgresClient

/// How a ``JobRunner`` claims, runs, completes and shuts down.
public struct JobRunnerConfiguration: Sendable {
    /// The queue this runner serves (run one runner per queue).
    public var queue: String
    /// Jobs run at once by this runner (its capacity).
    public var concurrency: Int
    /// Of those, jobs of kinds that use the database (registered with `usesDatabase`, the default) run at once;
    /// nil: the size of the runner's `Database` pool, whose connections only handlers and the worker's maintenance
    /// services use (the runner's own claim, completion and heartbeat statements have connections of their own).
    public var databaseConcurrency: Int?
    /// Identifies this runner in `locked_by`; unique per process and runner.
    public var workerID: String
    /// How long a claimed job stays leased without a heartbeat. Heartbeats renew it every ``heartbeatInterval``;
    /// after a crash, other workers' rescuers take the job back about one lease later.
    public var lease: Duration
    /// How often the leases of running jobs are renewed (default: a third of the lease).
    public var heartbeatInterval: Duration
    /// How often the runner claims without being woken (the fallback when NOTIFY is lost or disabled).
    public var pollInterval: Duration
    /// Wake up on NOTIFY (LISTEN on a connection of its own). Disable behind PgBouncer in transaction mode unless
    /// ``listenConfiguration`` points at a direct connection.
    public var listen: Bool
    /// Where to LISTEN; nil uses the pool's configuration.
    public var listenConfiguration: PostgresConfiguration?
    /// An attempt's time limit for kinds that set none; nil means no limit.
    public var defaultTimeout: Duration?
    /// The default of ``defaultMaxAttempts``.
    public static let standardMaxAttempts = 20
    /// Attempt limit for jobs and kinds that set none.
    public var defaultMaxAttempts: Int
    /// Backoff for kinds that set none.
    public var retryPolicy: RetryPolicy
    /// On graceful shutdown, how long running jobs may finish before they are cancelled and released (not
    /// spending their attempt, up to ``maxReleases``). Keep it below the service group's own shutdown limit.
    public var shutdownTimeout: Duration
    /// How often one job may be released at shutdown with its attempt given back; past that, a stop at shutdown
    /// spends the attempt like a failure ("interrupted at shutdown …"), so a job longer than the shutdown timeout
    /// ends `dead` with that error instead of looping in a fleet that restarts often.
    public var maxReleases: Int
    /// A completion batch is written once it has this many attempts…
    public var completionBatchSize: Int
    /// …or once its first attempt has waited this long.
    public var completionFlushInterval: Duration
    /// After a database error, the runner waits this long, doubling up to ``maxDatabaseBackoff``.
    public var databaseBackoff: Duration
    /// The longest wait between retries while the database is unreachable (bounds recovery time).
    public var maxDatabaseBackoff: Duration
    /// Scheduled jobs promoted per statement.
    public var promotionBatchSize: Int
    /// Return from `run()` once the queue is idle: a claim found nothing, nothing is in flight or waiting to be
    /// completed, and no scheduled job is due (for batch use and benchmarks: `slot-worker run --exit-when-idle`).
    public var exitWhenIdle = false

    public init(
        queue: String = "default",
        concurrency: Int = 10,
        databaseConcurrency: Int? = nil,
        workerID: String = JobRunnerConfiguration.makeWorkerID(),
        lease: Duration = .seconds(30),
        heartbeatInterval: Duration? = nil,
        pollInterval: Duration = .seconds(1),
        listen: Bool = true,
        listenConfiguration: PostgresConfiguration? = nil,
        defaultTimeout: Duration? = .seconds(300),
        defaultMaxAttempts: Int = JobRunnerConfiguration.standardMaxAttempts,
        retryPolicy: RetryPolicy = RetryPolicy(),
        shutdownTimeout: Duration = .seconds(20),
        maxReleases: Int = 5,
        completionBatchSize: Int = 100,
        completionFlushInterval: Duration = .milliseconds(2),
        databaseBackoff: Duration = .milliseconds(100),
        maxDatabaseBackoff: Duration = .seconds(2),
        promotionBatchSize: Int = 1000
    ) {
        self.queue = queue
        self.concurrency = max(1, concurrency)
        self.databaseConcurrency = databaseConcurrency.map { max(1, $0) }
        self.workerID = workerID
        self.lease = lease
        self.heartbeatInterval = heartbeatInterval ?? lease / 3
        self.pollInterval = pollInterval
        self.listen = listen
        self.listenConfiguration = listenConfiguration
        self.defaultTimeout = defaultTimeout
        self.defaultMaxAttempts = max(1, defaultMaxAttempts)
        self.retryPolicy = retryPolicy
        self.shutdownTimeout = shutdownTimeout
        self.maxReleases = max(0, maxReleases)
        self.completionBatchSize = max(1, completionBatchSize)
        self.completionFlushInterval = completionFlushInterval
        self.databaseBackoff = databaseBackoff
        self.maxDatabaseBackoff = max(maxDatabaseBackoff, databaseBackoff)
        self.promotionBatchSize = max(1, promotionBatchSize)
    }

    /// `host:pid:random` — unique per runner, readable in `locked_by` and logs.
    public static func makeWorkerID() -> String {
        // gethostname, not ProcessInfo.hostName: the latter may resolve the name through DNS.
        var buffer = [CChar](repeating: 0, count: 256)
        let bytes =
            gethostname(&buffer, buffer.count) == 0 ? buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) } : []
        let name = String(decoding: bytes, as: UTF8.self)
        let host = name.split(separator: ".").first.map(String.init) ?? "host"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(suffix)"
    }
}
