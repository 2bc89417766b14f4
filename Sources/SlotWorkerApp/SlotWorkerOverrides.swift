/// Values given on `slot-worker`'s command line; they take precedence over every other configuration source.
///
/// The executable only parses arguments into this value; which configuration key each one sets (and its scope) is
/// decided here.
public struct SlotWorkerOverrides: Sendable, Equatable {
    public var databaseURL: String?
    public var listenURL: String?
    public var httpHost: String?
    public var httpPort: Int?
    public var concurrency: Int?
    /// `true` turns LISTEN off (`worker.listen = false`); `false` leaves the configured value.
    public var noListen: Bool
    /// `--log-format` (`log.format`: text or json).
    public var logFormat: String?

    public init(
        databaseURL: String? = nil,
        listenURL: String? = nil,
        httpHost: String? = nil,
        httpPort: Int? = nil,
        concurrency: Int? = nil,
        noListen: Bool = false,
        logFormat: String? = nil
    ) {
        self.databaseURL = databaseURL
        self.listenURL = listenURL
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.concurrency = concurrency
        self.noListen = noListen
        self.logFormat = logFormat
    }

    /// The overrides keyed like the JSON file (`http.port`, `database.url`); ``ConfigurationReader`` maps each key
    /// to its variable and scope.
    var values: [String: String] {
        var values: [String: String] = [:]
        if let databaseURL { values["database.url"] = databaseURL }
        if let listenURL { values["database.listen_url"] = listenURL }
        if let httpHost { values["http.host"] = httpHost }
        if let httpPort { values["http.port"] = String(httpPort) }
        if let concurrency { values["worker.concurrency"] = String(concurrency) }
        if noListen { values["worker.listen"] = "false" }
        if let logFormat { values["log.format"] = logFormat }
        return values
    }
}
