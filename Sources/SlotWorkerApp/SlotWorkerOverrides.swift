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

    public init(
        databaseURL: String? = nil,
        listenURL: String? = nil,
        httpHost: String? = nil,
        httpPort: Int? = nil,
        concurrency: Int? = nil,
        noListen: Bool = false
    ) {
        self.databaseURL = databaseURL
        self.listenURL = listenURL
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.concurrency = concurrency
        self.noListen = noListen
    }

    /// The overrides as absolute configuration keys: `database.url` is read unscoped (like `DATABASE_URL`), every
    /// other key under the `slot_worker` scope.
    var values: [String: String] {
        var values: [String: String] = [:]
        if let databaseURL { values["database.url"] = databaseURL }
        if let listenURL { values["slot_worker.database.listen_url"] = listenURL }
        if let httpHost { values["slot_worker.http.host"] = httpHost }
        if let httpPort { values["slot_worker.http.port"] = String(httpPort) }
        if let concurrency { values["slot_worker.worker.concurrency"] = String(concurrency) }
        if noListen { values["slot_worker.worker.listen"] = "false" }
        return values
    }
}
