/// How a connection notices that the server or the network is gone, and how long the worker's own statements may
/// run. Applied to every connection a ``PostgresConfiguration`` opens (pool and LISTEN alike).
///
/// - **Network** (libpq connection parameters, so the kernel applies them to the socket): TCP keepalives probe an
///   idle connection after ``keepalivesIdleSeconds`` and give up after ``keepalivesCount`` unanswered probes
///   ``keepalivesIntervalSeconds`` apart; ``tcpUserTimeout`` bounds how long sent data may stay unacknowledged.
///   A parameter the connection string sets itself wins.
/// - **Session** (sent with `set_config` right after connecting, as bound parameters): ``statementTimeout`` and
///   ``idleInTransactionTimeout`` (nil: the server's setting). They are session settings on purpose, not startup
///   parameters: PgBouncer rejects unknown startup parameters (`options=-c …`) unless told to ignore them, while a
///   `SELECT set_config(…)` passes through any pooler. Behind PgBouncer in transaction mode the setting lands on
///   whichever server connection ran it (every client of this worker asks for the same values); set PgBouncer's
///   own `query_timeout` and `idle_transaction_timeout` there as well.
/// - **Client** (no help from the network needed): with a statement timeout set, a statement that gets no answer
///   within ``responseDeadline`` fails with `.connectionLost` and its connection is closed. This catches what
///   keepalives cannot: a peer whose kernel still acknowledges packets while nothing is forwarded (a stalled proxy
///   or pooler). The LISTEN connection, idle by nature, pings after ``keepalivesIdleSeconds`` without traffic and
///   reconnects when the ping is not answered within ``pingDeadline``.
public struct PostgresTimeouts: Sendable, Equatable {
    public var keepalivesIdleSeconds: Int
    public var keepalivesIntervalSeconds: Int
    public var keepalivesCount: Int
    /// Rounded to whole milliseconds.
    public var tcpUserTimeout: Duration
    /// Server-side limit for each statement; nil leaves the server's setting (and disables the client deadline).
    public var statementTimeout: Duration?
    /// Server-side limit for a transaction left idle; nil leaves the server's setting.
    public var idleInTransactionTimeout: Duration?

    public init(
        keepalivesIdleSeconds: Int = 10,
        keepalivesIntervalSeconds: Int = 3,
        keepalivesCount: Int = 3,
        tcpUserTimeout: Duration = .seconds(10),
        statementTimeout: Duration? = nil,
        idleInTransactionTimeout: Duration? = nil
    ) {
        self.keepalivesIdleSeconds = max(1, keepalivesIdleSeconds)
        self.keepalivesIntervalSeconds = max(1, keepalivesIntervalSeconds)
        self.keepalivesCount = max(1, keepalivesCount)
        self.tcpUserTimeout = max(tcpUserTimeout, .milliseconds(1))
        self.statementTimeout = statementTimeout.flatMap { $0 > .zero ? $0 : nil }
        self.idleInTransactionTimeout = idleInTransactionTimeout.flatMap { $0 > .zero ? $0 : nil }
    }

    /// How long a statement may go without its answer before the client gives the connection up: the statement
    /// timeout (the server cancels the statement then and answers) plus the TCP user timeout (at least 1 s) for
    /// that answer to arrive. Nil without a statement timeout.
    public var responseDeadline: Duration? {
        statementTimeout.map { $0 + max(tcpUserTimeout, .seconds(1)) }
    }

    /// How long the LISTEN connection waits for the answer to a ping (the TCP user timeout, at least 1 s).
    public var pingDeadline: Duration { max(tcpUserTimeout, .seconds(1)) }

    /// The libpq connection parameters of the network part.
    var connectionParameters: [(key: String, value: String)] {
        [
            ("keepalives", "1"),
            ("keepalives_idle", String(keepalivesIdleSeconds)),
            ("keepalives_interval", String(keepalivesIntervalSeconds)),
            ("keepalives_count", String(keepalivesCount)),
            ("tcp_user_timeout", String(Self.milliseconds(tcpUserTimeout))),
        ]
    }

    /// The session settings to send after connecting (setting name, value in ms), possibly empty.
    var sessionSettings: [(name: String, value: String)] {
        var settings: [(name: String, value: String)] = []
        if let statementTimeout { settings.append(("statement_timeout", String(Self.milliseconds(statementTimeout)))) }
        if let idleInTransactionTimeout {
            settings.append(
                ("idle_in_transaction_session_timeout", String(Self.milliseconds(idleInTransactionTimeout))))
        }
        return settings
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
