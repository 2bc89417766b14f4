import Configuration
import Foundation
import JobQueue
import PostgresClient

/// Typed reads of configuration keys from flags, the environment (including `*_FILE` variables), the JSON file and
/// defaults, in that order. Present-but-malformed values throw ``SlotWorkerConfiguration/Invalid``; every read is
/// recorded as a ``ConfigurationEntry`` (for `config show`).
final class ConfigurationReader {
    private let overrides: [String: String]
    private let environment: [String: String]
    private let file: (reader: ConfigReader, path: String)?
    private(set) var entries: [ConfigurationEntry] = []

    private init(overrides: [String: String], environment: [String: String], file: (ConfigReader, String)?) {
        self.overrides = overrides
        self.environment = environment
        self.file = file
    }

    /// - Parameters:
    ///   - overrides: flag values keyed like the file (`http.port`, `database.url`).
    ///   - configFile: a JSON file; when nil, `SLOT_WORKER_CONFIG` is consulted.
    static func make(
        overrides: [String: String],
        environment: [String: String],
        configFile: String?
    ) async throws -> ConfigurationReader {
        var file: (ConfigReader, String)?
        if let path = configFile ?? environment["SLOT_WORKER_CONFIG"], !path.isEmpty {
            do {
                let fileConfig = ConfigReader(
                    provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(path), isSecret: false)]))
                let provider = try await FileProvider<JSONSnapshot>(config: fileConfig)
                file = (ConfigReader(provider: provider), path)
            } catch {
                throw SlotWorkerConfiguration.Invalid(
                    key: "config", reason: "cannot read JSON configuration file \(path): \(error)")
            }
        }
        return ConfigurationReader(overrides: overrides, environment: environment, file: file)
    }

    /// The raw text of a key and its source, or nil when no source sets it.
    private func raw(_ key: String) throws -> (text: String, source: ConfigurationEntry.Source)? {
        if let value = overrides[key] { return (value, .flag) }
        let variable = ConfigurationEntry.variable(for: key)
        let fileVariable = variable + "_FILE"
        if let path = environment[fileVariable], !path.isEmpty {
            guard environment[variable] == nil else {
                throw SlotWorkerConfiguration.Invalid(
                    key: key, reason: "set either \(variable) or \(fileVariable), not both")
            }
            let contents: String
            do {
                contents = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw SlotWorkerConfiguration.Invalid(key: key, reason: "cannot read \(fileVariable) file \(path)")
            }
            return (
                contents.trimmingCharacters(in: .whitespacesAndNewlines),
                .secretFile(variable: fileVariable, path: path)
            )
        }
        if let value = environment[variable] { return (value, .environment(variable: variable)) }
        if let (reader, path) = file {
            let configKey = ConfigKey(key.split(separator: ".").map(String.init))
            if let text = reader.string(forKey: configKey) { return (text, .file(path: path)) }
            if let number = reader.int(forKey: configKey) { return (String(number), .file(path: path)) }
            if let flag = reader.bool(forKey: configKey) { return (String(flag), .file(path: path)) }
            if let number = reader.double(forKey: configKey) { return (String(number), .file(path: path)) }
        }
        return nil
    }

    private func record(_ key: String, _ value: String, secret: Bool, source: ConfigurationEntry.Source) {
        entries.append(
            ConfigurationEntry(
                key: key,
                variable: ConfigurationEntry.variable(for: key),
                value: secret && !value.isEmpty ? "(redacted)" : value,
                isSecret: secret,
                source: source
            )
        )
    }

    /// An optional string. `unscoped` is accepted for symmetry with keys read without the `slot_worker` prefix
    /// (`database.url`, whose variable is `DATABASE_URL`); the variable name already says it.
    func string(_ key: String, secret: Bool = false, unscoped: Bool = false) throws -> String? {
        guard let (text, source) = try raw(key) else {
            record(key, "", secret: secret, source: .defaultValue)
            return nil
        }
        record(key, text, secret: secret, source: source)
        return text
    }

    /// A string with a default.
    func string(_ key: String, default defaultValue: String) throws -> String {
        guard let (text, source) = try raw(key) else {
            record(key, defaultValue, secret: false, source: .defaultValue)
            return defaultValue
        }
        record(key, text, secret: false, source: source)
        return text
    }

    func requiredString(_ key: String, secret: Bool, unscoped: Bool) throws -> String {
        guard let value = try string(key, secret: secret, unscoped: unscoped), !value.isEmpty else {
            throw SlotWorkerConfiguration.Invalid(
                key: key, reason: "is required (set \(ConfigurationEntry.variable(for: key)) or pass --database-url)")
        }
        return value
    }

    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let (text, source) = try raw(key) else {
            record(key, String(defaultValue), secret: false, source: .defaultValue)
            return defaultValue
        }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\" is not an integer")
        }
        guard range.contains(value) else {
            throw SlotWorkerConfiguration.Invalid(
                key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        record(key, String(value), secret: false, source: source)
        return value
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let (text, source) = try raw(key) else {
            record(key, String(defaultValue), secret: false, source: .defaultValue)
            return defaultValue
        }
        let value: Bool
        switch text.lowercased() {
        case "1", "true", "yes", "on": value = true
        case "0", "false", "no", "off": value = false
        default: throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\" is not a boolean (true/false)")
        }
        record(key, String(value), secret: false, source: source)
        return value
    }

    /// One of an enumeration's raw values.
    func choice<Value: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: Value) throws -> Value
    where Value.RawValue == String {
        guard let (text, source) = try raw(key) else {
            record(key, defaultValue.rawValue, secret: false, source: .defaultValue)
            return defaultValue
        }
        guard let value = Value(rawValue: text.lowercased()) else {
            throw SlotWorkerConfiguration.Invalid(
                key: key,
                reason: "\"\(text)\" is not one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        record(key, value.rawValue, secret: false, source: source)
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

    /// A periodic schedule: `every 60s` or a cron expression with an optional zone.
    func schedule(_ key: String, default defaultValue: String) throws -> PeriodicSchedule {
        let (text, source) = try raw(key) ?? (defaultValue, .defaultValue)
        do {
            let schedule = try PeriodicSchedule.parse(text)
            record(key, schedule.description, secret: false, source: source)
            return schedule
        } catch {
            throw SlotWorkerConfiguration.Invalid(key: key, reason: "\"\(text)\": \(error.message)")
        }
    }
}
