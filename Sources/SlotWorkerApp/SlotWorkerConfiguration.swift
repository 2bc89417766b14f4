import Configuration
public import Foundation
import JobQueue
public import PostgresClient
public import Tasks

/// Everything `slot-worker` can be configured with, resolved once at start-up.
///
/// Sources, highest priority first: command-line flags, environment variables (`SLOT_WORKER_*`, plus
/// `DATABASE_URL`), an optional JSON file (`--config FILE` or `SLOT_WORKER_CONFIG`, see
/// `config/slot-worker.json`), then the defaults below. A value that is present but malformed is an error naming
/// the key and the variable — never silently replaced by the default. Secrets (`database.url` passwords, the bot
/// token, the metrics token) are read as secrets and never printed; ``redactedSummary`` is what may be logged.
public struct SlotWorkerConfiguration: Sendable {
    public var databaseURL: String
    /// A direct (non-PgBouncer) URL for LISTEN; defaults to `databaseURL`.
    public var listenURL: String?
    public var poolSize: Int
    public var acquireTimeout: Duration
    public var connectTimeoutSeconds: Int
    /// `database.prepared_statements`: `named`, `unnamed`, or nil for auto (see ``preparedStatementMode``).
    public var preparedStatements: PostgresConfiguration.PreparedStatements?

    public var httpHost: String
    public var httpPort: Int
    public var httpConnectionLimit: Int
    public var httpPerIPConnectionLimit: Int
    public var httpConnectionTimeoutSeconds: Int
    public var httpThreads: Int
    public var metricsBearerToken: String?

    public var workerID: String
    public var concurrency: Int
    public var pollInterval: Duration
    public var listenForNotifications: Bool
    public var leaseDuration: Duration
    public var shutdownTimeout: Duration
    public var statsInterval: Duration

    public var finishedRetention: Duration
    public var deadRetention: Duration

    public var releaseLapsedEvery: Duration
    public var expirePastEvery: Duration
    public var reservationTTL: Duration
    public var telegramBotToken: String?
    public var telegramAPIURL: String

    public var logLevel: String

    // MARK: Reminders, Telegram limits, slot expiry (read in SlotWorkerConfiguration+Reminders.swift)
    /// `reminders.*`, `telegram.max_messages_per_second`, `tasks.notify_lapsed_reservations`.
    public var reminders = ReminderSettings()
    /// `telegram.timeout`: one Bot API request, connect to last byte.
    public var telegramTimeout: Duration = .seconds(10)
    /// `tasks.slot_stats_every_seconds`: how often slots per status are sampled.
    public var slotStatsInterval: Duration = .seconds(30)
    // MARK: -

    /// A value that could not be used, named by its configuration key and environment variable.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var key: String
        public var reason: String
        public var description: String {
            let variable =
                key == "database.url"
                ? "DATABASE_URL"
                : "SLOT_WORKER_"
                    + key.uppercased()
                    .replacingOccurrences(of: ".", with: "_")
            return "invalid configuration \(key) (\(variable)): \(reason)"
        }
    }

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - overrides: values from command-line flags.
    ///   - environment: the process environment (injectable for tests).
    ///   - configFile: a JSON file; when nil, `SLOT_WORKER_CONFIG` is consulted.
    public static func load(
        overrides: SlotWorkerOverrides = SlotWorkerOverrides(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) async throws -> SlotWorkerConfiguration {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                values: Dictionary(
                    uniqueKeysWithValues: overrides.values.map {
                        (
                            AbsoluteConfigKey($0.key.split(separator: ".").map(String.init)),
                            ConfigValue(.string($0.value), isSecret: false)
                        )
                    }
                )
            ),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .dynamic { key, _ in
                    key == "DATABASE_URL" || key.hasSuffix("_TOKEN") || key.hasSuffix("_URL")
                }
            ),
        ]
        if let path = configFile ?? environment["SLOT_WORKER_CONFIG"], !path.isEmpty {
            do {
                let fileConfig = ConfigReader(
                    provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(path), isSecret: false)]))
                // The file's keys are written without the `slot_worker` scope (`{"http": {"port": 9464}}`), except
                // `database.url`, which is read unscoped like DATABASE_URL.
                let file = try await FileProvider<JSONSnapshot>(config: fileConfig)
                providers.append(file.prefixKeys(with: ConfigKey(["slot_worker"])))
                providers.append(file)
            } catch {
                throw Invalid(key: "config", reason: "cannot read JSON configuration file \(path): \(error)")
            }
        }
        let reader = Reader(ConfigReader(providers: providers))

        var configuration = SlotWorkerConfiguration(
            databaseURL: try reader.requiredString("database.url", secret: true, unscoped: true),
            listenURL: try reader.string("database.listen_url", secret: true),
            poolSize: try reader.int("database.pool_size", default: 10, range: 1...500),
            acquireTimeout: .milliseconds(
                try reader.int("database.acquire_timeout_ms", default: 5000, range: 1...600_000)),
            connectTimeoutSeconds: try reader.int("database.connect_timeout_seconds", default: 5, range: 1...300),
            preparedStatements: try reader.preparedStatements("database.prepared_statements"),
            httpHost: try reader.string("http.host") ?? "127.0.0.1",
            httpPort: try reader.int("http.port", default: 9464, range: 0...65535),
            httpConnectionLimit: try reader.int("http.connection_limit", default: 512, range: 1...100_000),
            httpPerIPConnectionLimit: try reader.int("http.per_ip_connection_limit", default: 64, range: 0...100_000),
            httpConnectionTimeoutSeconds: try reader.int(
                "http.connection_timeout_seconds", default: 10, range: 1...3600),
            httpThreads: try reader.int("http.threads", default: 1, range: 1...64),
            metricsBearerToken: try reader.string("http.metrics_token", secret: true),
            workerID: try reader.string("worker.id") ?? JobRunnerConfiguration.makeWorkerID(),
            concurrency: try reader.int("worker.concurrency", default: 32, range: 1...10_000),
            pollInterval: .milliseconds(try reader.int("worker.poll_interval_ms", default: 1000, range: 10...600_000)),
            listenForNotifications: try reader.bool("worker.listen", default: true),
            leaseDuration: .seconds(try reader.int("worker.lease_seconds", default: 30, range: 2...86_400)),
            shutdownTimeout: .seconds(try reader.int("worker.shutdown_timeout_seconds", default: 25, range: 0...3600)),
            statsInterval: .milliseconds(
                try reader.int("worker.stats_interval_ms", default: 5000, range: 100...600_000)),
            finishedRetention: .seconds(
                3600 * (try reader.int("retention.finished_hours", default: 24, range: 0...87_600))),
            deadRetention: .seconds(86_400 * (try reader.int("retention.dead_days", default: 7, range: 0...3650))),
            releaseLapsedEvery: .seconds(
                try reader.int("tasks.release_lapsed_every_seconds", default: 60, range: 1...86_400)),
            expirePastEvery: .seconds(
                try reader.int("tasks.expire_past_every_seconds", default: 300, range: 1...86_400)),
            reservationTTL: .seconds(try reader.int("tasks.reservation_ttl_seconds", default: 900, range: 1...86_400)),
            telegramBotToken: try reader.string("telegram.bot_token", secret: true),
            telegramAPIURL: try reader.string("telegram.api_url") ?? "https://api.telegram.org",
            logLevel: try reader.string("log.level") ?? "info"
        )
        try configuration.readReminderKeys(reader)
        if configuration.listenURL?.isEmpty == true { configuration.listenURL = nil }
        if configuration.metricsBearerToken?.isEmpty == true { configuration.metricsBearerToken = nil }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(configuration.logLevel)
        else {
            throw Invalid(
                key: "log.level",
                reason:
                    "\"\(configuration.logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        return configuration
    }

    /// How `DATABASE_URL`'s connections send hot statements: the configured mode, or automatically `unnamed` when a
    /// separate `database.listen_url` is set (the documented PgBouncer setup: the main URL goes through a pooler,
    /// where named statements break) and `named` otherwise.
    public var preparedStatementMode: PostgresConfiguration.PreparedStatements {
        preparedStatements ?? (listenURL == nil ? .named : .unnamed)
    }

    /// `DATABASE_URL` parsed, with the connect timeout and the prepared-statement mode applied.
    public func postgresConfiguration() throws -> PostgresConfiguration {
        var postgres = try PostgresConfiguration(databaseURL, connectTimeoutSeconds: connectTimeoutSeconds)
        postgres.preparedStatements = preparedStatementMode
        return postgres
    }

    /// A one-line summary safe to log: no URLs with passwords, no tokens.
    public var redactedSummary: String {
        "http=\(httpHost):\(httpPort) pool=\(poolSize) prepared_statements=\(preparedStatementMode.rawValue) "
            + "concurrency=\(concurrency) worker=\(workerID) "
            + "listen=\(listenForNotifications) poll=\(pollInterval) lease=\(leaseDuration) "
            + "metrics_token=\(metricsBearerToken == nil ? "unset" : "set") "
            + "telegram_token=\(telegramBotToken == nil ? "unset" : "set")"
    }
}

/// Typed reads with clear errors: present-but-malformed values throw ``SlotWorkerConfiguration/Invalid``.
struct Reader {
    let root: ConfigReader
    let scoped: ConfigReader

    init(_ reader: ConfigReader) {
        root = reader
        scoped = reader.scoped(to: "slot_worker")
    }

    private func reader(_ unscoped: Bool) -> ConfigReader { unscoped ? root : scoped }

    func string(_ key: String, secret: Bool = false, unscoped: Bool = false) throws -> String? {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        if let value = reader(unscoped).string(forKey: configKey, isSecret: secret) { return value }
        if let value = reader(unscoped).int(forKey: configKey, isSecret: secret) { return String(value) }
        return nil
    }

    func requiredString(_ key: String, secret: Bool, unscoped: Bool) throws -> String {
        guard let value = try string(key, secret: secret, unscoped: unscoped), !value.isEmpty else {
            throw SlotWorkerConfiguration.Invalid(
                key: key, reason: "is required (set DATABASE_URL or pass --database-url)")
        }
        return value
    }

    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        let value: Int
        if let number = scoped.int(forKey: configKey) {
            value = number
        } else if let text = scoped.string(forKey: configKey) {
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\" is not an integer")
            }
            value = number
        } else {
            return defaultValue
        }
        guard range.contains(value) else {
            throw SlotWorkerConfiguration.Invalid(
                key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// `auto` (nil), `named` or `unnamed`.
    func preparedStatements(_ key: String) throws -> PostgresConfiguration.PreparedStatements? {
        guard let text = try string(key)?.trimmingCharacters(in: .whitespaces).lowercased(), text != "auto" else {
            return nil
        }
        guard let mode = PostgresConfiguration.PreparedStatements(rawValue: text) else {
            throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\" is not one of auto, named, unnamed")
        }
        return mode
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        if let flag = scoped.bool(forKey: configKey) { return flag }
        guard let text = scoped.string(forKey: configKey) else { return defaultValue }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\" is not a boolean (true/false)")
        }
    }
}
