import Foundation
import TestSupport

/// A TCP proxy on 127.0.0.1 in front of a PostgreSQL port (`stall_proxy.py` next to this file) that can stop
/// forwarding without closing any connection: what a dead network or a hung middlebox looks like to a client, except
/// that TCP keepalives still get answered (so only application-level deadlines can notice). Commands go over its
/// standard input (reads block briefly on a pipe: fine for tests).
final class StallProxy: @unchecked Sendable {
    private let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    /// The proxy's port.
    let port: Int

    init(targetPort: Int) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "stall_proxy.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, String(targetPort)]
        let out = stdout
        process.standardOutput = out
        // Our own stdin (the proxy exits when it closes) and no inherited stderr.
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            throw TestSupportError("the stall proxy did not start")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: children of the test process may inherit an ignored SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        try? stdin.fileHandleForWriting.close()
    }

    /// Stops forwarding; every connection through the proxy goes silent, new ones are not served.
    func stall() throws { try send("stall") }

    /// Forwards again.
    func resume() throws { try send("resume") }

    /// Sends a command line and waits for its "ok".
    private func send(_ command: String) throws {
        try stdin.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8))
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard line == Data("ok".utf8) else { throw TestSupportError("the stall proxy did not acknowledge \(command)") }
    }

    /// `url` with its port replaced by the proxy's.
    func url(for url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.port = port
        return components.string ?? url
    }
}
