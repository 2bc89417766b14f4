import Foundation
import HTTPServer
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A small router used by the tests: the server itself does not route.
let testHandler: HTTPHandler = { request in
    switch request.path {
    case "/hello":
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPResponse(status: 405, headers: ["Allow": "GET, HEAD"])
        }
        return .text("hello world\n")
    case "/echo", "/echo/a b":
        let fields = [
            "method=\(request.method)", "path=\(request.path)", "query=\(request.query ?? "-")",
            "x-test=\(request.headers["x-TEST"] ?? "-")", "version=\(request.version)",
        ]
        return .text(fields.joined(separator: "\n"))
    case "/slow":
        // Only in tests: holds an MHD thread until the test opens the gate (at most 10 s), to keep a response in
        // flight during a graceful stop for as long as the test needs it.
        _ = slowRequestGate.wait(timeout: .now() + 10)
        return .text("slow done\n")
    default:
        return .text("not found\n", status: 404)
    }
}

/// Holds `/slow` responses until signalled.
let slowRequestGate = DispatchSemaphore(value: 0)

let quietLogger = Logger(label: "test.http", factory: { _ in SwiftLogNoOpLogHandler() })

/// Starts a server on an ephemeral port, runs `body`, and always stops the server.
func withServer<T>(
    _ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
    onShutdown: @escaping @Sendable () -> Void = {},
    handler: @escaping HTTPHandler = testHandler,
    _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
    let server = HTTPServer(configuration: configuration, logger: quietLogger, onShutdown: onShutdown, handler: handler)
    let port = try server.start()
    do {
        let result = try await body(server, port)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

@Suite("HTTPServer over real sockets")
struct HTTPServerTests {
    @Test("start reports the ephemeral port; GET answers with body, content type and length")
    func getRequest() async throws {
        try await withServer { server, port in
            #expect(port > 0)
            #expect(server.port == port)
            let response = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
            #expect(response.status == 200)
            #expect(response.text == "hello world\n")
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(response.header("Content-Length") == "12")
        }
    }

    @Test("HEAD answers the GET headers without a body (the next response on the connection parses cleanly)")
    func headRequest() async throws {
        try await withServer { _, port in
            let (head, get) = try await onThread {
                let client = try RawHTTPClient(port: port)
                let head = try client.request("HEAD", "/hello")
                let get = try client.request("GET", "/hello")
                return (head, get)
            }
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "12")
            #expect(head.body.isEmpty)
            #expect(get.status == 200)
            #expect(get.text == "hello world\n")
        }
    }

    @Test("the handler sees method, decoded path, raw query, case-insensitive headers and version")
    func requestFields() async throws {
        try await withServer { _, port in
            let response = try await onThread {
                try RawHTTPClient(port: port).request("GET", "/echo/a%20b?x=1&y=a%20b", headers: ["X-Test: value"])
            }
            #expect(response.status == 200)
            #expect(
                response.text == "method=GET\npath=/echo/a b\nquery=x=1&y=a%20b\nx-test=value\nversion=HTTP/1.1"
            )
        }
    }

    @Test("unknown paths get the handler's 404, wrong methods its 405 with Allow")
    func notFoundAndMethodNotAllowed() async throws {
        try await withServer { _, port in
            let (missing, wrongMethod) = try await onThread {
                let client = try RawHTTPClient(port: port)
                return (try client.request("GET", "/nope"), try client.request("DELETE", "/hello"))
            }
            #expect(missing.status == 404)
            #expect(missing.text == "not found\n")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, HEAD")
        }
    }

    @Test("keep-alive: two requests on one connection, neither answer closes it")
    func keepAlive() async throws {
        try await withServer { server, port in
            let responses = try await onThread {
                let client = try RawHTTPClient(port: port)
                return [try client.request("GET", "/hello"), try client.request("GET", "/echo?second")]
            }
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses.allSatisfy { $0.header("Connection")?.lowercased() != "close" })
            #expect(responses[1].text.contains("query=second"))
            #expect(server.requestsInFlight == 0)
        }
    }

    @Test("pipelined requests are answered in order")
    func pipelining() async throws {
        try await withServer { _, port in
            let responses = try await onThread {
                let client = try RawHTTPClient(port: port)
                try client.send(
                    "GET /echo?1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?2 HTTP/1.1\r\nHost: x\r\n\r\n"
                )
                return [try client.readResponse(), try client.readResponse()]
            }
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses[0].text.contains("query=1\n"))
            #expect(responses[1].text.contains("query=2\n"))
        }
    }

    @Test("garbage request lines get 400 from libmicrohttpd, silent clients time out, the server keeps serving")
    func garbageRequest() async throws {
        try await withServer(HTTPServerConfiguration(connectionTimeoutSeconds: 1)) { server, port in
            let garbage = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                try client.send("THIS IS NOT HTTP\r\n\r\n")
                return try client.readResponse()
            }
            #expect(garbage.status == 400)
            let noSpaces = try await onThread { () -> Bool in
                let client = try RawHTTPClient(port: port)
                try client.send("GARBAGE\r\n\r\n")
                return client.isClosedByPeer()
            }
            #expect(noSpaces)
            let binary = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                try client.send([1, 2, 32, 255, 254, 13, 10, 13, 10])
                return try client.readResponse()
            }
            #expect(binary.status == 400)
            // A NUL byte reads as an empty line, so libmicrohttpd keeps waiting: the connection timeout ends it.
            let started = ContinuousClock.now
            let silent = try await onThread { () -> Bool in
                let client = try RawHTTPClient(port: port)
                try client.send([0, 1, 2, 255, 254, 13, 10, 13, 10])
                return client.isClosedByPeer()
            }
            #expect(silent)
            #expect(ContinuousClock.now - started < .seconds(4))
            let after = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
            #expect(after.status == 200)
            // The request-completed callback may run just after the answer reached the client.
            let deadline = ContinuousClock.now + .seconds(2)
            while server.requestsInFlight > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.requestsInFlight == 0)
        }
    }

    @Test("a request head larger than the connection memory is refused with a 4xx, then the server keeps serving")
    func hugeHeaders() async throws {
        try await withServer { _, port in
            let huge = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                let filler = String(repeating: "a", count: 100_000)
                try? client.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(filler)\r\n\r\n")
                return try client.readResponse()
            }
            #expect((400..<500).contains(huge.status))
            let longTarget = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                try? client.send("GET /\(String(repeating: "b", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n")
                return try client.readResponse()
            }
            #expect((400..<500).contains(longTarget.status))
            let after = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
            #expect(after.status == 200)
        }
    }

    @Test("small request bodies are read; a body over the limit (declared or chunked) gets 413")
    func requestBodies() async throws {
        let configuration = HTTPServerConfiguration(maxRequestBodyBytes: 1024)
        try await withServer(configuration) { server, port in
            let (small, next) = try await onThread {
                let client = try RawHTTPClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
                let small = try client.readResponse()
                return (small, try client.request("GET", "/hello"))
            }
            #expect(small.status == 200)
            #expect(small.text.hasPrefix("method=POST\n"))
            #expect(next.status == 200)
            let large = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n")
                return try client.readResponse()
            }
            #expect(large.status == 413)
            let chunked = try await onThread { () -> RawResponse in
                let client = try RawHTTPClient(port: port)
                let chunk = String(repeating: "z", count: 2000)
                try client.send(
                    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n\(chunk)\r\n0\r\n\r\n"
                )
                return try client.readResponse()
            }
            #expect(chunked.status == 413)
            try await Task.sleep(for: .milliseconds(50))
            #expect(server.requestsInFlight == 0)
        }
    }

    @Test("concurrent clients are all answered")
    func concurrentRequests() async throws {
        try await withServer { _, port in
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        try await onThread {
                            let client = try RawHTTPClient(port: port)
                            return try (0..<25).map { index in
                                let response = try client.request("GET", "/echo?\(worker)-\(index)")
                                return response.text.contains("query=\(worker)-\(index)\n") ? response.status : -1
                            }
                        }
                    }
                }
                var all: [Int] = []
                for try await statuses in group { all += statuses }
                return all
            }
            #expect(statuses.count == 200)
            #expect(statuses.allSatisfy { $0 == 200 })
        }
    }

    @Test("graceful stop lets an in-flight slow response finish, calls onShutdown first, then refuses connections")
    func gracefulStopFinishesInFlightRequest() async throws {
        let shutdownCalls = Atomic<Int>(0)
        let server = HTTPServer(
            logger: quietLogger,
            onShutdown: { shutdownCalls.add(1, ordering: .relaxed) },
            handler: testHandler
        )
        let port = try server.start()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: RawResponse?.self) { group in
                group.addTask {
                    try await server.run()
                    return nil
                }
                group.addTask {
                    try await onThread { try RawHTTPClient(port: port).request("GET", "/slow") }
                }
                // Generous: on a loaded machine the client thread can take seconds to connect.
                let deadline = ContinuousClock.now.advanced(by: .seconds(30))
                while server.requestsInFlight == 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
                #expect(server.requestsInFlight == 1)
                trigger.triggerGracefulShutdown()
                // The stop is under way while the response is held; it must wait for it, not cut it off.
                try await Task.sleep(for: .milliseconds(50))
                slowRequestGate.signal()
                var slow: RawResponse?
                for try await result in group {
                    if let result { slow = result }
                }
                #expect(slow?.status == 200)
                #expect(slow?.text == "slow done\n")
            }
        }
        #expect(shutdownCalls.load(ordering: .relaxed) == 1)
        #expect(server.port == nil)
        #expect(throws: RawHTTPError.self) { try RawHTTPClient(port: port) }
    }

    @Test("stop does not wait for idle keep-alive connections")
    func stopWithIdleKeepAliveConnection() async throws {
        let server = HTTPServer(logger: quietLogger, handler: testHandler)
        let port = try server.start()
        let client = try await onThread { () -> RawHTTPClient in
            let client = try RawHTTPClient(port: port)
            _ = try client.request("GET", "/hello")
            return client
        }
        let started = ContinuousClock.now
        await server.stop()
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(client.isClosedByPeer())
    }

    @Test("run() stops on task cancellation")
    func runStopsOnCancellation() async throws {
        let server = HTTPServer(logger: quietLogger, handler: testHandler)
        let port = try server.start()
        let task = Task { try await server.run() }
        let response = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
        #expect(response.status == 200)
        task.cancel()
        try await task.value
        #expect(server.port == nil)
    }

    @Test("run() returns when stop() is called elsewhere; a stopped server cannot run again")
    func runReturnsOnExternalStop() async throws {
        let server = HTTPServer(logger: quietLogger, handler: testHandler)
        let port = try server.start()
        let runEntered = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                runEntered.set()
                try await server.run()
            }
            let response = try await onThread { try RawHTTPClient(port: port).request("GET", "/hello") }
            #expect(response.status == 200)
            // stop() must come after run() began (a stop before it makes run() throw, as the end of this test
            // shows); on a loaded machine the child task can start late.
            while !runEntered.isSet { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(100))
            await server.stop()
            try await group.waitForAll()
        }
        let error = await #expect(throws: HTTPServerError.self) { try await server.run() }
        #expect(error?.code == .alreadyStarted)
    }

    @Test("binding a port in use throws bindFailed naming host, port and reason")
    func portInUse() async throws {
        try await withServer { _, port in
            let second = HTTPServer(
                configuration: HTTPServerConfiguration(port: port),
                logger: quietLogger,
                handler: testHandler
            )
            let error = #expect(throws: HTTPServerError.self) { try second.start() }
            #expect(error?.code == .bindFailed)
            #expect(error?.host == "127.0.0.1")
            #expect(error?.port == port)
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
            #expect(error?.reason.localizedCaseInsensitiveContains("in use") == true)
            #expect(second.port == nil)
        }
    }

    @Test("a host that cannot be resolved throws invalidHost; a bad port throws invalidConfiguration")
    func badHostAndPort() {
        let badHost = HTTPServer(
            configuration: HTTPServerConfiguration(host: "no-such-host.invalid"),
            logger: quietLogger,
            handler: testHandler
        )
        let badHostError = #expect(throws: HTTPServerError.self) { try badHost.start() }
        #expect(badHostError?.code == .invalidHost)
        let badPort = HTTPServer(
            configuration: HTTPServerConfiguration(port: 70000),
            logger: quietLogger,
            handler: testHandler
        )
        let badPortError = #expect(throws: HTTPServerError.self) { try badPort.start() }
        #expect(badPortError?.code == .invalidConfiguration)
    }

    @Test("a server starts once")
    func startsOnce() async throws {
        try await withServer { server, _ in
            let error = #expect(throws: HTTPServerError.self) { try server.start() }
            #expect(error?.code == .alreadyStarted)
        }
    }

    @Test("IPv6 loopback works when available")
    func ipv6() async throws {
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "::1"),
            logger: quietLogger,
            handler: testHandler
        )
        guard let port = try? server.start() else { return }  // no IPv6 on this machine
        #expect(port > 0)
        await server.stop()
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let storage = Atomic<Bool>(false)
    func set() { storage.store(true, ordering: .relaxed) }
    var isSet: Bool { storage.load(ordering: .relaxed) }
}
