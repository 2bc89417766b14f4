import Foundation

/// nginx serving fixed bodies from files, as the `http` benchmark's reference: what this machine gives a server that
/// does nothing per request but send bytes it already has.
///
/// One worker process (as the monitoring server has one thread), the file handles cached, no access log, keep-alive
/// without a request limit; everything (configuration, pid, logs, temp paths) lives in a temporary directory that
/// is removed afterwards. Listens on 127.0.0.1 only.
struct StaticFileServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    let baseURL: String

    /// Runs `body` while nginx (`executable`) serves `files` (name → bytes) at `/NAME`; stops nginx afterwards,
    /// whether `body` throws or not.
    ///
    /// - Throws: ``BenchFailure`` when nginx exits at start or does not listen within 10 s (its error log is in the
    ///   message), or what `body` throws.
    static func serving<T>(
        _ files: [String: [UInt8]], executable: String, _ body: (StaticFileServer) throws -> T
    ) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("slotworker-nginx-\(UUID().uuidString)")
        let root = directory.appendingPathComponent("root")
        // World-readable: started as root, nginx serves from a worker process that runs as nobody.
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, bytes) in files {
            let file = root.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        }
        let port = try freePort()
        let configuration = directory.appendingPathComponent("nginx.conf")
        try configurationText(directory: directory.path, port: port)
            .write(to: configuration, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let errorLog = directory.appendingPathComponent("error.log").path
        process.arguments = ["-p", directory.path + "/", "-c", configuration.path, "-e", errorLog]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !accepts(port: port) {
            let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
            guard process.isRunning, Date() < deadline else {
                throw BenchFailure("nginx did not start on 127.0.0.1:\(port): \(log.suffix(500))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try body(StaticFileServer(baseURL: "http://127.0.0.1:\(port)"))
    }

    static func configurationText(directory: String, port: Int) -> String {
        """
        daemon off;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log \(directory)/error.log;
        events { worker_connections 1024; }
        http {
            access_log off;
            default_type text/plain;
            keepalive_requests 100000000;
            open_file_cache max=16;
            client_body_temp_path \(directory)/client-body;
            proxy_temp_path \(directory)/proxy;
            fastcgi_temp_path \(directory)/fastcgi;
            uwsgi_temp_path \(directory)/uwsgi;
            scgi_temp_path \(directory)/scgi;
            server {
                listen 127.0.0.1:\(port);
                root \(directory)/root;
            }
        }

        """
    }

    /// A port nothing listens on now (bound to port 0, read back, closed): nginx cannot report a port it chose.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchFailure("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        guard withSocketAddress(&address, { bind(fd, $0, $1) == 0 }), let port = localPort(fd) else {
            throw BenchFailure("bind to a free port failed: errno \(errno)")
        }
        return port
    }

    /// Whether 127.0.0.1:`port` accepts a connection now. A connection whose own port is `port` reached itself
    /// (TCP simultaneous open on a port nothing listens on), not a listener.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withSocketAddress(&address) { Foundation.connect(fd, $0, $1) == 0 } && localPort(fd) != port
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        return address
    }

    private static func withSocketAddress(
        _ address: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> Bool
    ) -> Bool {
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
