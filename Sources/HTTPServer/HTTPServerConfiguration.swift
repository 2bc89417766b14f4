/// How an ``HTTPServer`` listens and how much it accepts.
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// The numeric IPv4 or IPv6 address to bind, or a host name resolved at start (first address wins).
    public var host: String
    /// The TCP port; 0 binds an ephemeral port, reported by ``HTTPServer/port`` after start.
    public var port: Int
    /// The maximum number of concurrent client connections; further connections are refused.
    public var connectionLimit: Int
    /// The maximum number of concurrent client connections from one IP address; 0 means no per-address limit.
    public var perIPConnectionLimit: Int
    /// Idle connections (also idle keep-alive connections) are closed after this many seconds.
    public var connectionTimeoutSeconds: Int
    /// The number of libmicrohttpd threads serving connections (handlers run on these threads). One is enough for
    /// scrapes and probes and keeps the tail latency lowest on small machines (`scripts/bench http`).
    public var threadPoolSize: Int
    /// Memory per connection for request headers; larger request heads are answered with an error status.
    public var connectionMemoryLimitBytes: Int
    /// Request bodies up to this size are read (``HTTPRequest/body``); larger ones are answered with 413.
    public var maxRequestBodyBytes: Int
    /// Requests answered by ``HTTPMount`` handlers at once; more are answered 503 with `Retry-After`.
    public var asyncConcurrencyLimit: Int
    /// How long an ``HTTPMount`` handler may take before the request is answered 504.
    public var asyncTimeout: Duration
    /// The `listen(2)` backlog.
    public var listenBacklog: Int
    /// How long a graceful stop keeps serving (readiness already reporting shutdown) before it stops accepting.
    ///
    /// Gives load balancers time to notice the failing readiness probe. Zero (the default) skips the delay.
    public var shutdownDelay: Duration
    /// How long a graceful stop waits for open connections to finish before it closes them.
    public var gracefulStopTimeout: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        connectionLimit: Int = 512,
        perIPConnectionLimit: Int = 64,
        connectionTimeoutSeconds: Int = 10,
        threadPoolSize: Int = 1,
        connectionMemoryLimitBytes: Int = 32 * 1024,
        maxRequestBodyBytes: Int = 64 * 1024,
        asyncConcurrencyLimit: Int = 8,
        asyncTimeout: Duration = .seconds(5),
        listenBacklog: Int = 128,
        shutdownDelay: Duration = .zero,
        gracefulStopTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.threadPoolSize = threadPoolSize
        self.connectionMemoryLimitBytes = connectionMemoryLimitBytes
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.asyncConcurrencyLimit = asyncConcurrencyLimit
        self.asyncTimeout = asyncTimeout
        self.listenBacklog = listenBacklog
        self.shutdownDelay = shutdownDelay
        self.gracefulStopTimeout = gracefulStopTimeout
    }
}
