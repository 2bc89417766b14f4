import Foundation
import HTTPServer
import Synchronization
import Testing

/// Gates for the async handlers of these tests.
final class AsyncGate: Sendable {
    private let opened = Mutex(false)
    func open() { opened.withLock { $0 = true } }
    func wait() async {
        while !opened.withLock({ $0 }), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

/// Runs a server with mounts through `run()` (the mounts are served only then), runs `body`, stops the server.
func withRunningServer<T: Sendable>(
    _ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
    mounts: [HTTPMount],
    _ body: @Sendable (HTTPServer, Int) async throws -> T
) async throws -> T {
    let server = HTTPServer(configuration: configuration, logger: quietLogger, mounts: mounts, handler: testHandler)
    let port = try server.start()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        do {
            let result = try await body(server, port)
            await server.stop()
            try await group.waitForAll()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}

/// Waits (up to 20 s, a loaded machine) until the server has `count` requests in flight.
func waitForRequests(_ server: HTTPServer, _ count: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while server.requestsInFlight < count, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
    }
}

@Suite("HTTPServer asynchronous mounts over real sockets")
struct AsyncMountTests {
    static let echo = HTTPMount(prefix: "/ui") { request in
        try? await Task.sleep(for: .milliseconds(20))  // suspends: no MHD thread is held meanwhile
        let body = String(decoding: request.body, as: UTF8.self)
        return .text("async \(request.method) \(request.path) body=\(body)\n")
    }

    @Test("a mount answers GET and a form POST (body read) asynchronously; other paths stay synchronous")
    func mountAnswers() async throws {
        try await withRunningServer(mounts: [Self.echo]) { _, port in
            let (get, post, sync, outside) = try await onThread {
                let client = try RawHTTPClient(port: port, timeoutSeconds: 30)
                let get = try client.request("GET", "/ui/jobs?state=dead")
                try client.send(
                    "POST /ui/jobs/retry HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 11\r\n\r\nids=1&ids=2")
                let post = try client.readResponse()
                let sync = try client.request("GET", "/hello")  // same keep-alive connection
                return (get, post, sync, try client.request("GET", "/uix"))
            }
            #expect(get.status == 200 && get.text == "async GET /ui/jobs body=\n")
            #expect(post.text == "async POST /ui/jobs/retry body=ids=1&ids=2\n")
            #expect(sync.text == "hello world\n")
            #expect(outside.status == 404)
        }
    }

    @Test("a slow handler does not block others: the MHD thread keeps serving while it runs")
    func slowHandlerDoesNotBlock() async throws {
        let gate = AsyncGate()
        let slow = HTTPMount(prefix: "/slow-ui") { _ in
            await gate.wait()
            return .text("slow\n")
        }
        try await withRunningServer(HTTPServerConfiguration(threadPoolSize: 1), mounts: [slow, Self.echo]) {
            server, port in
            async let slowAnswer = onThread {
                try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/slow-ui")
            }
            try await waitForRequests(server, 1)
            let fast = try await onThread { try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/ui") }
            let metrics = try await onThread {
                try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/hello")
            }
            #expect(fast.status == 200 && metrics.status == 200)
            gate.open()
            #expect(try await slowAnswer.text == "slow\n")
        }
    }

    @Test("beyond the concurrency limit requests get 503 with Retry-After; past the timeout 504")
    func limitAndTimeout() async throws {
        let gate = AsyncGate()
        let stuck = HTTPMount(prefix: "/stuck") { _ in
            await gate.wait()
            return .text("late\n")
        }
        let configuration = HTTPServerConfiguration(asyncConcurrencyLimit: 2, asyncTimeout: .seconds(3))
        try await withRunningServer(configuration, mounts: [stuck]) { server, port in
            async let first = onThread { try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/stuck") }
            async let second = onThread { try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/stuck") }
            try await waitForRequests(server, 2)
            let third = try await onThread {
                try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/stuck")
            }
            #expect(third.status == 503)
            #expect(third.header("Retry-After") == "1")
            let answers = try await [first, second]
            #expect(answers.map(\.status) == [504, 504], "\(answers.map(\.text))")
            gate.open()
        }
    }

    @Test("bodies over the limit get 413 (declared or chunked), garbage gets 400, and the mount keeps serving")
    func badRequests() async throws {
        try await withRunningServer(HTTPServerConfiguration(maxRequestBodyBytes: 1024), mounts: [Self.echo]) {
            _, port in
            let declared = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port, timeoutSeconds: 30)
                try client.send("POST /ui/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
                return try client.readResponse()
            }
            #expect(declared.status == 413)
            let chunked = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port, timeoutSeconds: 30)
                let chunk = String(repeating: "z", count: 2000)
                try client.send(
                    "POST /ui/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n\(chunk)\r\n0\r\n\r\n")
                return try client.readResponse()
            }
            #expect(chunked.status == 413)
            let garbage = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port, timeoutSeconds: 30)
                try client.send("NOT HTTP AT ALL\r\n\r\n")
                return try client.readResponse()
            }
            #expect(garbage.status == 400)
            // A slow client (half a body, then silence) does not hold up anyone else.
            let slowClient = try RawHTTPClient(port: port, timeoutSeconds: 30)
            try slowClient.send("POST /ui/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
            let after = try await onThread {
                try RawHTTPClient(port: port, timeoutSeconds: 30).request("GET", "/ui/after")
            }
            #expect(after.text == "async GET /ui/after body=\n")
        }
    }

    @Test("a stop answers pending asynchronous requests 503 instead of dropping them")
    func stopAnswersPending() async throws {
        let neverDone = HTTPMount(prefix: "/forever") { _ in
            try? await Task.sleep(for: .seconds(30))
            return .text("too late\n")
        }
        let configuration = HTTPServerConfiguration(asyncTimeout: .seconds(30), gracefulStopTimeout: .milliseconds(300))
        let server = HTTPServer(
            configuration: configuration, logger: quietLogger, mounts: [neverDone], handler: testHandler)
        let port = try server.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            async let pending = onThread {
                try RawHTTPClient(port: port, timeoutSeconds: 10).request("GET", "/forever")
            }
            try await waitForRequests(server, 1)
            let started = ContinuousClock.now
            await server.stop()
            #expect(ContinuousClock.now - started < .seconds(20), "the 30 s handler is not waited for")
            #expect(try await pending.status == 503)
            try await group.waitForAll()
        }
    }
}
