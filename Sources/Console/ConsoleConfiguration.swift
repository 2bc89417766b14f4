public import JobQueue

/// How the console behaves. Safe by default: without ``adminToken`` it is read-only, and it refuses to serve at all
/// when the monitoring server listens on a non-loopback address without one.
public struct ConsoleConfiguration: Sendable {
    /// Where it is mounted on the monitoring server.
    public var prefix: String
    /// Enables login and actions; nil: read-only, loopback only.
    public var adminToken: String?
    /// Whether job pages show payloads.
    public var showPayloads: Bool
    /// Limit of every console statement (`SET LOCAL statement_timeout`).
    public var statementTimeout: Duration
    /// Job counts above this are estimated (a table sample) instead of counted.
    public var exactCountLimit: Int
    /// The address the monitoring server binds (decides whether the console may serve without a token).
    public var listenHost: String
    /// The periodic jobs of this deployment (the periodic page).
    public var periodicJobs: [PeriodicJob]
    /// Ids a job-list page scans at most below its cursor (see ``JobPage``); a page whose window ran out links to
    /// the next one.
    public var listWindow: Int64

    public init(
        prefix: String = "/ui",
        adminToken: String? = nil,
        showPayloads: Bool = false,
        statementTimeout: Duration = .seconds(2),
        exactCountLimit: Int = 100_000,
        listenHost: String = "127.0.0.1",
        periodicJobs: [PeriodicJob] = [],
        listWindow: Int64 = JobOperations.listWindow
    ) {
        self.prefix = prefix
        self.adminToken = adminToken.flatMap { $0.isEmpty ? nil : $0 }
        self.showPayloads = showPayloads
        self.statementTimeout = statementTimeout
        self.exactCountLimit = exactCountLimit
        self.listenHost = listenHost
        self.periodicJobs = periodicJobs
        self.listWindow = max(1, listWindow)
    }

    /// Whether the listen address only accepts local connections.
    public var listensOnLoopback: Bool {
        ["127.0.0.1", "::1", "localhost"].contains(listenHost) || listenHost.hasPrefix("127.")
    }

    /// Why the console refuses to serve, or nil when it serves.
    public var refusal: String? {
        guard adminToken == nil, !listensOnLoopback else { return nil }
        return "the console is disabled: the monitoring server listens on \(listenHost) (not loopback) and no "
            + "console.admin_token (SLOT_WORKER_CONSOLE_ADMIN_TOKEN) is set"
    }
}
