import Foundation
import PostgresClient
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The end-to-end tests of `slot-worker run`: real processes of the real binary on real PostgreSQL.
///
/// Serialized: each test runs several worker processes, and the machine has two cores shared with the rest of the
/// test suite; run side by side they would only make each other's timings noisy.
@Suite("slot-worker processes", .serialized)
struct WorkerProcessTests {}

/// A `slot-worker run` process and the HTTP port it bound (`--http-port 0`, read back from its start-up log).
struct Worker {
    let running: WorkerProcess.Running
    let port: Int

    var pid: Int32 { running.pid }
    var isRunning: Bool { running.isRunning }
    var stderr: String { running.stderr.text }

    /// `GET path` on the worker's HTTP port.
    func get(_ path: String, headers: [String] = [], timeoutSeconds: Int = 5) async throws -> HTTPReply {
        try await HTTPProbe.get(port: port, path: path, headers: headers, timeoutSeconds: timeoutSeconds)
    }

    /// Sends SIGTERM and waits for the exit.
    func terminate(timeout: Duration = .seconds(40)) async throws -> WorkerProcess.Output {
        running.signal(SIGTERM)
        return try await running.finish(timeout: timeout)
    }
}

/// Starts worker processes and makes sure none outlives the test: whatever is still running when the scope ends
/// (a failed test) is killed.
final class WorkerScope: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [WorkerProcess.Running] = []

    /// Runs `body`, then SIGKILLs every process it started that is still running.
    static func with<T>(_ body: (WorkerScope) async throws -> T) async throws -> T {
        let scope = WorkerScope()
        do {
            let value = try await body(scope)
            await scope.killAll()
            return value
        } catch {
            await scope.killAll()
            throw error
        }
    }

    /// Starts `slot-worker run --http-port 0 ARGS` on `databaseURL` (passed as `DATABASE_URL`) and waits until its
    /// HTTP server is bound.
    func startWorker(
        databaseURL: String,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> Worker {
        var env = ["DATABASE_URL": databaseURL]
        env.merge(environment) { $1 }
        let running = try WorkerProcess.start(["run", "--http-port", "0"] + arguments, environment: env)
        track(running)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let port = Self.boundPort(in: running.stderr.text) { return Worker(running: running, port: port) }
            guard running.isRunning else {
                try await Task.sleep(for: .milliseconds(100))
                throw TestSupportError(
                    "slot-worker run exited (\(running.process.terminationStatus)) before serving HTTP; stderr:\n"
                        + running.stderr.text)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("slot-worker run logged no http.address within 30 s; stderr:\n\(running.stderr.text)")
    }

    /// Runs a one-shot `slot-worker` command (not tracked: it ends by itself or is killed at its timeout).
    func command(
        _ arguments: [String],
        databaseURL: String,
        stdin: String? = nil
    ) async throws -> WorkerProcess.Output {
        try await WorkerProcess.run(arguments, environment: ["DATABASE_URL": databaseURL], stdin: stdin)
    }

    private func track(_ running: WorkerProcess.Running) {
        lock.withLock { started.append(running) }
    }

    private func killAll() async {
        let all = lock.withLock { started }
        for running in all where running.isRunning {
            running.signal(SIGKILL)
            _ = try? await running.finish(timeout: .seconds(10))
        }
    }

    /// The port of the start-up line's `http.address=127.0.0.1:PORT`.
    static func boundPort(in log: String) -> Int? {
        guard let range = log.range(of: "http.address=") else { return nil }
        let address = log[range.upperBound...].prefix { !$0.isWhitespace }
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return Int(address[address.index(after: colon)...])
    }
}

/// Reads the database under test.
struct Probe {
    let pool: PostgresPool
    /// Tries a failed query again this many times (for a server that restarts: pooled connections break).
    let retries: Int

    init(_ configuration: PostgresConfiguration, retries: Int = 0) {
        pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2))
        self.retries = retries
    }

    /// Runs one statement, trying again up to ``retries`` times.
    func query(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> PostgresRows {
        var attempt = 0
        while true {
            do {
                return try await pool.query(sql, binds)
            } catch {
                attempt += 1
                if attempt > retries { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The first column of the first row as an integer (`count(*)` and the like).
    func int(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        let rows = try await query(sql, binds)
        guard let row = rows.first else { throw TestSupportError("no row from: \(sql)") }
        return Int(try row.decode(at: 0, as: Int64.self))
    }

    /// The first column of every row as text.
    func strings(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [String] {
        try await query(sql, binds).map { try $0.decode(at: 0, as: String.self) }
    }

    /// The first column of every row as 64-bit integers.
    func ids(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [Int64] {
        try await query(sql, binds).map { try $0.decode(at: 0, as: Int64.self) }
    }

    /// The first column of the first row as a double.
    func double(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Double {
        let rows = try await query(sql, binds)
        guard let row = rows.first else { throw TestSupportError("no row from: \(sql)") }
        return try row.decode(at: 0, as: Double.self)
    }

    /// Jobs of `kind` not yet finished.
    func unfinished(kind: String) async throws -> Int {
        try await int(
            "SELECT count(*) FROM jobs WHERE kind = $1 AND state NOT IN ('succeeded', 'dead', 'cancelled')", [kind])
    }

    func close() async { await pool.close() }
}

/// Polls `condition` until it holds; throws `what` when `timeout` passes first.
func waitFor(
    _ what: String,
    timeout: Duration,
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    if try await condition() { return }
    throw TestSupportError("timed out after \(timeout) waiting for: \(what)")
}

/// JSON lines for `slot-worker enqueue --from -`.
func jsonLines(_ count: Int, _ line: (Int) -> String) -> String {
    (0..<count).map(line).joined(separator: "\n") + "\n"
}

/// An HTTP answer.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// A tiny HTTP/1.1 client over a raw TCP socket (one request per connection), run on threads of its own so a
/// blocking read never holds the cooperative pool.
enum HTTPProbe {
    /// `GET path` with `Connection: close`; reads the answer to end of file.
    static func get(port: Int, path: String, headers: [String] = [], timeoutSeconds: Int = 5) async throws
        -> HTTPReply
    {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for header in headers { request += header + "\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        let raw = try await exchange(port: port, bytes: bytes, timeoutSeconds: timeoutSeconds)
        return try parse(raw)
    }

    /// Sends `bytes`, half-closes, and returns whatever comes back until the peer closes (or the timeout).
    static func exchange(port: Int, bytes: [UInt8], timeoutSeconds: Int = 5) async throws -> [UInt8] {
        try await onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
            defer { close(fd) }
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw TestSupportError("connect to port \(port) failed: errno \(errno)") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                guard written > 0 else { break }  // the server may close on junk before reading it all
                offset += written
            }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received.append(contentsOf: chunk[..<count])
            }
            return received
        }
    }

    static func parse(_ raw: [UInt8]) throws -> HTTPReply {
        let text = String(decoding: raw, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else {
            throw TestSupportError("no complete HTTP answer: \(text.prefix(200))")
        }
        var lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw TestSupportError("bad status line: \(statusLine)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return HTTPReply(status: status, headers: headers, body: String(text[headEnd.upperBound...]))
    }
}

/// Runs blocking work on a thread of its own.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// The samples of one metric in a Prometheus text exposition: labels → value.
func samples(of metric: String, in exposition: String) -> [([String: String], Double)] {
    exposition.split(separator: "\n").compactMap { line -> ([String: String], Double)? in
        guard !line.hasPrefix("#"), line.hasPrefix(metric) else { return nil }
        let rest = line.dropFirst(metric.count)
        var labels: [String: String] = [:]
        var valueText = rest
        if rest.hasPrefix("{") {
            guard let close = rest.lastIndex(of: "}") else { return nil }
            for pair in rest[rest.index(after: rest.startIndex)..<close].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            valueText = rest[rest.index(after: close)...]
        } else if !rest.hasPrefix(" ") {
            return nil  // another metric whose name starts with this one
        }
        guard let value = Double(valueText.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) else {
            return nil
        }
        return (labels, value)
    }
}
