import Foundation

/// One configuration key as resolved: its effective value (secrets redacted) and where the value came from, as
/// `slot-worker config show` prints it.
public struct ConfigurationEntry: Sendable, Equatable, Encodable {
    /// Where a value came from, highest priority first.
    public enum Source: Sendable, Equatable {
        case flag
        case environment(variable: String)
        /// A `*_FILE` variable naming a file that holds the value.
        case secretFile(variable: String, path: String)
        case file(path: String)
        case defaultValue

        public var description: String {
            switch self {
            case .flag: "command-line flag"
            case .environment(let variable): "environment \(variable)"
            case .secretFile(let variable, let path): "file \(path) (from \(variable))"
            case .file(let path): "config file \(path)"
            case .defaultValue: "default"
            }
        }
    }

    /// The dotted key, as in the JSON file (`http.port`).
    public var key: String
    /// The environment variable of the key.
    public var variable: String
    /// The effective value as text; `(redacted)` for a secret that is set, empty when unset.
    public var value: String
    public var isSecret: Bool
    public var source: Source

    /// The environment variable of a key: `DATABASE_URL` for `database.url`, else `SLOT_WORKER_` and the key in
    /// capitals with `_` for `.`.
    public static func variable(for key: String) -> String {
        key == "database.url"
            ? "DATABASE_URL" : "SLOT_WORKER_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    enum CodingKeys: String, CodingKey {
        case key, variable, value, secret, source
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(variable, forKey: .variable)
        try container.encode(value, forKey: .value)
        try container.encode(isSecret, forKey: .secret)
        try container.encode(source.description, forKey: .source)
    }
}
