import Foundation
public import Logging
import Monitoring
import Synchronization

/// A swift-log handler writing one JSON object per line to standard error (`--log-format json`):
/// `{"time":"2026-12-01T10:00:00.123Z","level":"info","label":"slot-worker","message":"job finished",
/// "job.id":"42","job.kind":"noop","job.attempt":"1","duration_ms":1.25}`. Metadata keys are top-level fields;
/// numeric values (`duration_ms`) are numbers, the rest strings (nested values as JSON). Lines are written whole,
/// one `write(2)` each, so concurrent loggers never interleave.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", JSONString.quoted(Self.timestamp(Date()))),
            ("level", JSONString.quoted(event.level.rawValue)),
            ("label", JSONString.quoted(label)),
            ("message", JSONString.quoted(event.message.description)),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            fields.append((key, Self.json(merged[key]!)))
        }
        let line = "{" + fields.map { JSONString.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return JSONString.quoted(text)
        case .stringConvertible(let convertible):
            let text = convertible.description
            if convertible is any BinaryInteger || convertible is any BinaryFloatingPoint,
                Double(text)?.isFinite == true
            {
                return text
            }
            return JSONString.quoted(text)
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            return "{"
                + values.keys.sorted().map { JSONString.quoted($0) + ":" + json(values[$0]!) }.joined(separator: ",")
                + "}"
        }
    }

    private static let formatter = Mutex<ISO8601DateFormatter>(
        {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter
        }())

    private static func timestamp(_ date: Date) -> String {
        formatter.withLock { $0.string(from: date) }
    }
}
