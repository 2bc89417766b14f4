/// Why an ``HTTPServer`` could not start or was misused.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure (extensible).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: Sendable, Hashable {
            case invalidConfiguration
            case invalidHost
            case bindFailed
            case alreadyStarted
        }

        private let value: Value

        /// A configuration value is out of range (port, limits, thread count).
        public static let invalidConfiguration = Code(value: .invalidConfiguration)
        /// The host is neither a numeric address nor a resolvable name.
        public static let invalidHost = Code(value: .invalidHost)
        /// libmicrohttpd could not bind or start (port in use, address not local, no permission, ...).
        public static let bindFailed = Code(value: .bindFailed)
        /// ``HTTPServer/start()`` was called on a server that is running or was stopped.
        public static let alreadyStarted = Code(value: .alreadyStarted)

        public var description: String {
            switch self.value {
            case .invalidConfiguration: "invalid configuration"
            case .invalidHost: "invalid host"
            case .bindFailed: "bind failed"
            case .alreadyStarted: "already started"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The configured host.
    public var host: String
    /// The configured port.
    public var port: Int
    /// A human-readable reason (for example libmicrohttpd's last log message such as "Address already in use").
    public var reason: String

    public init(code: Code, host: String, port: Int, reason: String) {
        self.code = code
        self.host = host
        self.port = port
        self.reason = reason
    }

    public var description: String {
        "HTTP server on \(self.host):\(self.port): \(self.code): \(self.reason)"
    }
}
