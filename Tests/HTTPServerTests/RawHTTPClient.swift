import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A parsed HTTP/1.1 response.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: self.body, as: UTF8.self) }
}

struct RawHTTPError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking HTTP/1.1 client over one plain POSIX TCP connection, so tests control keep-alive and can send
/// arbitrary bytes. Every read and write times out after `timeoutSeconds`.
///
/// `@unchecked Sendable`: a test hands a client from one thread to the next but never uses it from two at once.
final class RawHTTPClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`.
    init(port: Int, timeoutSeconds: Int = 5) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard self.fd >= 0 else { throw RawHTTPError(description: "socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(self.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // No close here: an initializer that throws once every stored property is set still runs `deinit`, and a
        // second close of the number could close another thread's descriptor that reused it meanwhile (the likely
        // cause of a CI run's crash in libdispatch's event loop, whose descriptor it could have been).
        guard result == 0 else { throw RawHTTPError(description: "connect() failed: errno \(errno)") }
        // With nothing listening on a port of the ephemeral range, connect can pick that very port as its source
        // and reach itself (TCP simultaneous open): for a test that expects a refusal, that is no listener.
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        guard named != 0 || UInt16(bigEndian: local.sin_port) != UInt16(port) else {
            throw RawHTTPError(description: "connect() reached its own socket: nothing listens on port \(port)")
        }
    }

    /// Closes the socket, also when ``init(port:timeoutSeconds:)`` threw after creating it.
    deinit {
        if self.fd >= 0 { close(self.fd) }
    }

    /// Sends raw bytes.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(self.fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw RawHTTPError(description: "write() failed: errno \(errno)") }
            offset += written
        }
    }

    func send(_ text: String) throws {
        try self.send(Array(text.utf8))
    }

    /// Sends a request with `Host` and optional extra header lines.
    func request(_ method: String, _ target: String, headers: [String] = []) throws -> RawResponse {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for header in headers { text += header + "\r\n" }
        text += "\r\n"
        try self.send(text)
        return try self.readResponse(bodyExpected: method != "HEAD")
    }

    /// Reads one response. The body is read by `Content-Length`, or until the peer closes when there is none.
    func readResponse(bodyExpected: Bool = true) throws -> RawResponse {
        let headEnd = try self.readUntilHeadEnd()
        let head = String(decoding: self.buffer[..<headEnd], as: UTF8.self)
        self.buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw RawHTTPError(description: "bad status line: \(statusLine)")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (
                String(line[..<colon]),
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
        var response = RawResponse(status: status, headers: headers, body: [])
        guard bodyExpected else { return response }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            while self.buffer.count < length {
                guard try self.fill() else { throw RawHTTPError(description: "closed inside the body") }
            }
            response.body = Array(self.buffer[..<length])
            self.buffer.removeFirst(length)
        } else {
            while try self.fill() {}
            response.body = self.buffer
            self.buffer = []
        }
        return response
    }

    /// Whether the peer closed the connection (reads until EOF or timeout; true on EOF or reset).
    func isClosedByPeer() -> Bool {
        do {
            while try self.fill() {}
            return true
        } catch {
            return error.description.contains("errno 104")
        }
    }

    private func readUntilHeadEnd() throws -> Int {
        let marker: [UInt8] = [13, 10, 13, 10]
        while true {
            if self.buffer.count >= 4 {
                for index in 0...(self.buffer.count - 4) where Array(self.buffer[index..<index + 4]) == marker {
                    return index
                }
            }
            guard try self.fill() else { throw RawHTTPError(description: "closed before the response head") }
        }
    }

    /// Reads more bytes; false on EOF.
    private func fill() throws(RawHTTPError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count = chunk.withUnsafeMutableBytes { read(self.fd, $0.baseAddress, $0.count) }
        if count < 0 { throw RawHTTPError(description: "read() failed: errno \(errno)") }
        if count == 0 { return false }
        self.buffer.append(contentsOf: chunk[..<count])
        return true
    }
}

/// Runs blocking socket work on a thread of its own, so the test never blocks Swift's cooperative pool (the server
/// under test must keep making progress on it, for example to stop gracefully).
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}
