import CLibPQ
import Foundation

/// Where and how to connect: a parsed `DATABASE_URL` or libpq conninfo string.
///
/// Parsing uses libpq's own `PQconninfoParse`, so every form libpq accepts works (URLs and `key=value` strings).
/// The password stays inside; ``description``, ``host``, ``port`` and every error built from a configuration omit it.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// Parsed connection parameters in libpq's keyword order (only the ones that were set).
    let parameters: [(key: String, value: String)]
    /// Host as given (or "localhost" when unset).
    public let host: String
    /// Port as given (or "5432" when unset).
    public let port: String
    /// User name, if given.
    public let user: String?
    /// Database name, if given.
    public let database: String?
    /// Seconds libpq waits for a connection to open.
    public let connectTimeoutSeconds: Int
    /// How statements run with `prepared: true` travel (default ``PreparedStatements/named``).
    public var preparedStatements: PreparedStatements = .named

    /// How a connection sends the statements its callers mark `prepared`.
    public enum PreparedStatements: String, Sendable, CaseIterable {
        /// Prepared once per connection under a name (`PQsendPrepare`), then executed by name: the server parses
        /// once, and plans for the values of each execution (the session sets `plan_cache_mode =
        /// force_custom_plan`). A generic plan, which the server otherwise settles on after five executions, is made
        /// for the table as it is then: the job claim's generic plan, made while `jobs` held a few rows, kept a
        /// sequential scan for its UPDATE after the table grew (201,018 rows read, 179 ms instead of under 1 ms for
        /// 32 jobs) until an ANALYZE invalidated it. Needs the same server session for every statement of the connection, which PgBouncer
        /// in transaction or statement mode does not give (1.18 keeps no named statements per client: a name is
        /// missing, or already exists, on the next server connection).
        case named
        /// Sent with its text every time, in the unnamed statement (`PQsendQueryParams`): parsed and planned per
        /// execution, and correct through any pooler.
        case unnamed
    }

    /// Parses a `postgresql://` URL or a `key=value` conninfo string.
    ///
    /// - Parameter connectTimeoutSeconds: used when the string itself sets no `connect_timeout`.
    /// - Throws: ``PostgresError`` of kind `.invalidConfiguration`, with libpq's reason and the password masked.
    public init(_ conninfo: String, connectTimeoutSeconds: Int = 5, applicationName: String = "slot-worker") throws {
        var errorPointer: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorPointer) else {
            var reason = "cannot parse connection string"
            if let errorPointer {
                reason = String(cString: errorPointer).trimmingTrailingNewlines()
                PQfreemem(errorPointer)
            }
            throw PostgresError(
                .invalidConfiguration,
                message: "invalid database URL: \(PostgresConfiguration.redact(reason, in: conninfo))",
                operation: "configure"
            )
        }
        defer { PQconninfoFree(options) }
        var parameters: [(key: String, value: String)] = []
        var index = 0
        while let keyword = options[index].keyword {
            if let value = options[index].val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            index += 1
        }
        func value(_ key: String) -> String? { parameters.first { $0.key == key }?.value }
        if value("connect_timeout") == nil {
            parameters.append(("connect_timeout", String(connectTimeoutSeconds)))
        }
        if value("application_name") == nil {
            parameters.append(("application_name", applicationName))
        }
        let port = value("port") ?? "5432"
        guard port.split(separator: ",").allSatisfy({ UInt16($0) != nil }) else {
            throw PostgresError(
                .invalidConfiguration,
                message: "invalid database URL: port \"\(port)\" is not a number between 0 and 65535",
                operation: "configure"
            )
        }
        self.parameters = parameters
        self.host = value("host") ?? value("hostaddr") ?? "localhost"
        self.port = port
        self.user = value("user")
        self.database = value("dbname")
        self.connectTimeoutSeconds = Int(value("connect_timeout") ?? "") ?? connectTimeoutSeconds
    }

    /// A copy that connects to another database on the same server (used by tests and tools).
    public func with(database: String) -> PostgresConfiguration {
        var copy = PostgresConfiguration(
            parameters: parameters.filter { $0.key != "dbname" } + [("dbname", database)],
            host: host,
            port: port,
            user: user,
            database: database,
            connectTimeoutSeconds: connectTimeoutSeconds
        )
        copy.preparedStatements = preparedStatements
        return copy
    }

    private init(
        parameters: [(key: String, value: String)],
        host: String,
        port: String,
        user: String?,
        database: String?,
        connectTimeoutSeconds: Int
    ) {
        self.parameters = parameters
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// `host:port/database as user` — never the password.
    public var description: String {
        var text = "\(host):\(port)"
        if let database { text += "/\(database)" }
        if let user { text += " as \(user)" }
        return text
    }

    /// The password, if any was given, for masking in messages.
    var password: String? { parameters.first { $0.key == "password" }?.value }

    /// Removes anything that looks like the password of `conninfo` from `message`.
    static func redact(_ message: String, in conninfo: String) -> String {
        var result = message
        for secret in passwordCandidates(in: conninfo) where !secret.isEmpty {
            result = result.replacingAll(secret, with: "****")
        }
        return result
    }

    /// Password-like substrings of a URL (`scheme://user:SECRET@host`) or conninfo (`password=SECRET`).
    static func passwordCandidates(in conninfo: String) -> [String] {
        var candidates: [String] = []
        if let schemeEnd = conninfo.range(of: "://") {
            let rest = conninfo[schemeEnd.upperBound...]
            if let at = rest.lastIndex(of: "@") {
                let userInfo = rest[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    candidates.append(String(userInfo[userInfo.index(after: colon)...]))
                }
            }
        }
        if let range = conninfo.range(of: "password=") {
            let tail = conninfo[range.upperBound...]
            candidates.append(String(tail.prefix { $0 != " " && $0 != "&" }))
        }
        return candidates
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last.isNewline || last == " " { text = text.dropLast() }
        return String(text)
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
