public import Foundation

/// A fake Telegram Bot API on a local port (a small Python HTTP server next to this file), recording requests.
public final class FakeTelegram: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    public let port: Int
    let log: URL

    public struct Request: Decodable, Sendable {
        public struct Message: Decodable, Sendable {
            public let chatID: Int64?
            public let text: String?
            enum CodingKeys: String, CodingKey {
                case chatID = "chat_id"
                case text
            }
        }
        public let path: String
        public let message: Message
        /// Arrival, Unix time.
        public let at: Double
    }

    /// - Parameter rules: answers per chat id, in order, the last repeating (see `fake_telegram.py`).
    public init(rules: [Int64: [String]] = [:]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "fake_telegram.py")
        log = FileManager.default.temporaryDirectory.appendingPathComponent("fake-telegram-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let rulesFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fake-telegram-rules-\(UUID().uuidString).json")
        try JSONEncoder().encode(Dictionary(uniqueKeysWithValues: rules.map { (String($0.key), $0.value) })).write(
            to: rulesFile)
        process.arguments = ["python3", script.path, log.path, rulesFile.path]
        let out = Pipe()
        process.standardOutput = out
        // Our own stdin and no inherited stderr: the server exits when we do and never holds the test runner's
        // output pipes open.
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            throw TestSupportError("fake Telegram server did not start")
        }
        self.port = port
    }

    deinit {
        // SIGKILL, not terminate(): the test process may ignore SIGTERM (signal handlers of the service
        // lifecycle), and children inherit ignored signals. Not waitUntilExit(): from a non-main thread it can
        // spin forever in corelibs-foundation's run loop.
        kill(process.processIdentifier, SIGKILL)
        try? stdin.fileHandleForWriting.close()
        try? FileManager.default.removeItem(at: log)
    }

    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Requests to one chat.
    public func requests(to chatID: Int64) -> [Request] { requests.filter { $0.message.chatID == chatID } }

    public var requests: [Request] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }
}
