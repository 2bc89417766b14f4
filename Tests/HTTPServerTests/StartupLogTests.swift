import HTTPServer
import Logging
import Synchronization
import Testing

@Suite("HTTPServer start-up log")
struct StartupLogTests {
    @Test("a normal start and stop logs no warning from libmicrohttpd, with one thread or a pool", arguments: [1, 2])
    func noWarnings(threads: Int) async throws {
        let recorder = WarningRecorder()
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(threadPoolSize: threads),
            logger: Logger(label: "test.http.startup", factory: { _ in recorder }),
            handler: testHandler
        )
        let port = try server.start()
        let response = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
        #expect(response.status == 200)
        await server.stop()
        let warnings = recorder.warnings
        #expect(warnings.isEmpty, "warnings: \(warnings.joined(separator: "; "))")
    }

    @Test("the recorder sees libmicrohttpd's warnings (a failed bind is explained at warning level)")
    func recorderSeesWarnings() async throws {
        let first = HTTPServer(logger: quietLogger, handler: testHandler)
        let port = try first.start()
        let recorder = WarningRecorder()
        let second = HTTPServer(
            configuration: HTTPServerConfiguration(port: port),
            logger: Logger(label: "test.http.startup", factory: { _ in recorder }),
            handler: testHandler
        )
        #expect(throws: HTTPServerError.self) { try second.start() }
        await first.stop()
        let warnings = recorder.warnings
        let explained = warnings.contains { $0.contains("libmicrohttpd") }
        #expect(explained, "warnings: \(warnings.joined(separator: "; "))")
    }
}

/// Records every log message at warning level or above.
final class WarningRecorder: LogHandler, @unchecked Sendable {
    private let records = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= .warning else { return }
        let text = "\(event.message) \(event.metadata ?? [:])"
        records.withLock { $0.append(text) }
    }

    var warnings: [String] { records.withLock { $0 } }
}
