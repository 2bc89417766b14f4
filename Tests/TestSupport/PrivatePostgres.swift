public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A throwaway PostgreSQL cluster of its own, for tests that stop and restart the server (the shared test server
/// must never go down under other tests).
///
/// The cluster lives in a temporary directory: data in `DIR/data`, the Unix socket in `DIR`, the log in
/// `DIR/server.log`. It listens on 127.0.0.1 only, on a free port, with `trust` authentication for the `postgres`
/// user. The binaries come from `pg_config --bindir`. When the tests run as root (CI, sessions), `initdb` and
/// `postgres` refuse to: they run as the `postgres` user (`runuser -u postgres --`) on a directory that user owns.
///
/// The server is stopped and started with its own `pg_ctl`, never by process name. Use ``with(_:)`` so the cluster
/// is removed however the test ends; ``remove()`` is also the deinit's safety net.
public final class PrivatePostgres: @unchecked Sendable {
    /// The temporary directory holding data, socket and log.
    public let directory: URL
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// `pg_config --bindir`.
    public let binDirectory: String
    /// The command prefix (`runuser -u postgres --`) when running as root, else empty.
    private let prefix: [String]
    private let lock = NSLock()
    private var removed = false

    private init(directory: URL, port: Int, binDirectory: String, prefix: [String]) {
        self.directory = directory
        self.port = port
        self.binDirectory = binDirectory
        self.prefix = prefix
    }

    deinit {
        removeNow()
    }

    /// The data directory.
    public var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// The server log (read it when a test fails).
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    /// The URL of database `name` (default `postgres`) as the `postgres` superuser.
    public func url(database name: String = "postgres") -> String {
        "postgresql://postgres@127.0.0.1:\(port)/\(name)"
    }

    /// Creates and starts a cluster; `configuration` lines are appended to `postgresql.conf`.
    ///
    /// - Parameter durable: run with PostgreSQL's durable defaults (`fsync`, `synchronous_commit` and
    ///   `full_page_writes` on), for tests of crashes; otherwise all three are off (faster).
    public static func create(configuration: [String] = [], durable: Bool = false) async throws -> PrivatePostgres {
        let binDirectory = try await Self.binDirectory()
        let prefix = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        var lastError: (any Error)?
        // A free port can be taken between the probe and the server's bind: try a few.
        for _ in 0..<3 {
            let directory = URL(fileURLWithPath: NSTemporaryDirectory())
                .appendingPathComponent("slotworker-private-pg-\(UUID().uuidString.prefix(8).lowercased())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if getuid() == 0 {
                try FileManager.default.setAttributes(
                    [.ownerAccountName: "postgres", .posixPermissions: 0o755],
                    ofItemAtPath: directory.path
                )
            }
            let server = PrivatePostgres(
                directory: directory,
                port: try freeTCPPort(),
                binDirectory: binDirectory,
                prefix: prefix
            )
            do {
                try await server.initialize(configuration: configuration, durable: durable)
                try await server.start()
                return server
            } catch {
                lastError = error
                await server.remove()
            }
        }
        throw lastError ?? TestSupportError("cannot start a private PostgreSQL")
    }

    /// Creates and starts a streaming replica of `primary` (`pg_basebackup -R`: a standby that follows the
    /// primary's WAL over a replication connection, read-only until ``promote()``), on a free port of its own.
    ///
    /// - Parameters:
    ///   - slot: a physical replication slot to create on the primary and stream through (`pg_basebackup -C -S`).
    ///   - configuration: lines appended to the standby's `postgresql.conf`.
    public static func standby(
        of primary: PrivatePostgres, slot: String? = nil, configuration: [String] = []
    ) async throws -> PrivatePostgres {
        let prefix = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("slotworker-private-pg-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try FileManager.default.setAttributes(
                [.ownerAccountName: "postgres", .posixPermissions: 0o755],
                ofItemAtPath: directory.path
            )
        }
        let server = PrivatePostgres(
            directory: directory,
            port: try freeTCPPort(),
            binDirectory: primary.binDirectory,
            prefix: prefix
        )
        do {
            let backup = try await run(
                prefix + [
                    "\(primary.binDirectory)/pg_basebackup", "-D", server.dataDirectory, "-h", "127.0.0.1",
                    "-p", String(primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
                ] + (slot.map { ["-C", "-S", $0] } ?? []))
            guard backup.status == 0 else {
                throw TestSupportError("pg_basebackup failed (\(backup.status)): \(backup.output)")
            }
            // The copied postgresql.conf names the primary's port and socket directory; later lines win.
            try server.appendConfiguration(
                [
                    "port = \(server.port)",
                    "unix_socket_directories = '\(directory.path)'",
                ] + configuration)
            try await server.start()
            return server
        } catch {
            await server.remove()
            throw error
        }
    }

    /// Promotes a standby to a primary (`pg_ctl promote`) and waits until it accepts writes.
    public func promote() async throws {
        try await pgCtl(["promote", "-w", "-t", "60"])
    }

    /// Runs `body` with a fresh cluster and removes the cluster afterwards, whether `body` returns or throws.
    public static func with<T>(
        configuration: [String] = [],
        durable: Bool = false,
        _ body: (PrivatePostgres) async throws -> T
    ) async throws -> T {
        let server = try await create(configuration: configuration, durable: durable)
        do {
            let value = try await body(server)
            await server.remove()
            return value
        } catch {
            await server.remove()
            throw error
        }
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        try await pgCtl(["start", "-w", "-t", "60", "-l", directory.appendingPathComponent("server.log").path])
    }

    /// Stops the server (`fast`: disconnects clients, rolls back their transactions) and waits until it is down.
    public func stop(mode: String = "fast") async throws {
        try await pgCtl(["stop", "-w", "-t", "60", "-m", mode])
    }

    /// Stops and starts the server.
    public func restart() async throws {
        try await stop()
        try await start()
    }

    /// Stops the server (immediately) if it runs and deletes the directory. Safe to call more than once.
    public func remove() async {
        let directory = self.directory
        let command = pgCtlCommand(["stop", "-w", "-t", "30", "-m", "immediate"])
        guard markRemoved() else { return }
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/postmaster.pid").path) {
            _ = try? await Self.run(command)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func markRemoved() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if removed { return false }
        removed = true
        return true
    }

    /// The synchronous removal of deinit.
    private func removeNow() {
        guard markRemoved() else { return }
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/postmaster.pid").path) {
            let command = pgCtlCommand(["stop", "-w", "-t", "30", "-m", "immediate"])
            if let pid = try? Self.spawn(command, outputPath: "/dev/null") {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func initialize(configuration: [String], durable: Bool) async throws {
        let initdb =
            prefix + [
                "\(binDirectory)/initdb", "-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync",
            ]
        let result = try await Self.run(initdb)
        guard result.status == 0 else {
            throw TestSupportError("initdb failed (\(result.status)): \(result.output)")
        }
        let lines =
            [
                "listen_addresses = '127.0.0.1'",
                "port = \(port)",
                "unix_socket_directories = '\(directory.path)'",
                "max_connections = 100",
                "fsync = \(durable ? "on" : "off")",
                "synchronous_commit = \(durable ? "on" : "off")",
                "full_page_writes = \(durable ? "on" : "off")",
                "log_min_messages = warning",
            ] + configuration
        try appendConfiguration(lines)
    }

    private func appendConfiguration(_ lines: [String]) throws {
        let conf = URL(fileURLWithPath: dataDirectory).appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + lines.joined(separator: "\n") + "\n").utf8))
        try handle.close()
    }

    private func pgCtlCommand(_ arguments: [String]) -> [String] {
        prefix + ["\(binDirectory)/pg_ctl", "-D", dataDirectory] + arguments
    }

    private func pgCtl(_ arguments: [String]) async throws {
        let result = try await Self.run(pgCtlCommand(arguments))
        guard result.status == 0 else {
            throw TestSupportError(
                "pg_ctl \(arguments.first ?? "") failed (\(result.status)): \(result.output)\nserver log:\n\(log)")
        }
    }

    private static func binDirectory() async throws -> String {
        let result = try await run(["/usr/bin/env", "pg_config", "--bindir"])
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !path.isEmpty else {
            throw TestSupportError("pg_config --bindir failed (is PostgreSQL installed?): \(result.output)")
        }
        return path
    }

    /// Runs a command to completion without blocking a thread of the cooperative pool; returns its exit status
    /// (128 + the signal when killed by one) and its combined output.
    ///
    /// Not `Foundation.Process`: on Linux it learns of a child's exit from a socket the child inherits, and the
    /// server `pg_ctl start` forks inherits it too, so the exit of `pg_ctl` would go unnoticed until the server
    /// stops. Here the child gets standard input from /dev/null, its output in a file, and no other descriptor of
    /// this process; a thread of its own waits for it with `waitpid`.
    static func run(_ command: [String]) async throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "private-pg-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try spawn(command, outputPath: outputPath)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 {
                    guard errno == EINTR else {
                        continuation.resume(throwing: TestSupportError("waitpid(\(pid)) failed: errno \(errno)"))
                        return
                    }
                }
                // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
                let signal = raw & 0x7f
                continuation.resume(returning: signal == 0 ? (raw >> 8) & 0xff : 128 + signal)
            }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, text)
    }

    /// posix_spawn with stdin from /dev/null, stdout and stderr appended to `outputPath`, every other inherited
    /// descriptor closed, and this process's environment.
    private static func spawn(_ command: [String], outputPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Closing a descriptor that is closed by now is harmless (glibc reports only out-of-range ones).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = arguments.withUnsafeBufferPointer { argv in
            posix_spawn(&pid, command[0], &actions, nil, argv.baseAddress!, environ)
        }
        guard result == 0 else {
            throw TestSupportError("cannot run \(command[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw TestSupportError("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
