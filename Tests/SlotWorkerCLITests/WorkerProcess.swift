import Foundation
import TestSupport

/// Runs the real `slot-worker` binary (built by `scripts/test`, path in `SLOT_WORKER_BINARY`).
struct WorkerProcess {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String {
        get throws {
            if let path = ProcessInfo.processInfo.environment["SLOT_WORKER_BINARY"], !path.isEmpty { return path }
            // `swift test` without scripts/test: the debug build next to the test bundle.
            let guess = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("slot-worker").path
            guard FileManager.default.isExecutableFile(atPath: guess) else {
                throw TestSupportError("slot-worker binary not found: run through scripts/test")
            }
            return guess
        }
    }

    /// Runs `slot-worker ARGS` to completion with `environment` added to a clean environment.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Output {
        let process = try start(arguments, environment: environment, stdin: stdin)
        return try await process.finish(timeout: timeout)
    }

    /// Starts `slot-worker ARGS` (or another `executable`) and returns the running process.
    static func start(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        executable: String? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable ?? binary)
        process.arguments = arguments
        var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        _ = ignoreSIGPIPE
        let stdout = Collector(out)
        let stderr = Collector(err)
        try process.run()
        // Written on a thread of its own: a large input fills the pipe and the write blocks until the child reads
        // it, which must not hold a thread of the cooperative pool. A child that exits without reading gets EPIPE
        // (SIGPIPE is ignored), which only ends the write.
        let writer = input.fileHandleForWriting
        let bytes = Data((stdin ?? "").utf8)
        Thread.detachNewThread {
            if !bytes.isEmpty { try? writer.write(contentsOf: bytes) }
            try? writer.close()
        }
        return Running(process: process, stdout: stdout, stderr: stderr)
    }

    /// A write to a pipe whose reader exited must fail with EPIPE, not kill the test process.
    private static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// Collects a pipe's output on a background reader so the child never blocks on a full pipe.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var ended = false

        init(_ pipe: Pipe) {
            pipe.fileHandleForReading.readabilityHandler = { [self] handle in
                let chunk = handle.availableData
                lock.lock()
                data.append(chunk)
                if chunk.isEmpty { ended = true }
                lock.unlock()
                // At end of file the handler would be called again and again: stop it.
                if chunk.isEmpty { handle.readabilityHandler = nil }
            }
        }

        /// Whether the writer closed the pipe (the child exited) and everything was read.
        var isAtEnd: Bool {
            lock.lock()
            defer { lock.unlock() }
            return ended
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Running {
        let process: Process
        let stdout: Collector
        let stderr: Collector

        var pid: Int32 { process.processIdentifier }

        func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

        var isRunning: Bool { process.isRunning }

        /// Waits for exit (killing the process after `timeout`).
        func finish(timeout: Duration) async throws -> Output {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                if ContinuousClock.now > deadline {
                    process.terminate()
                    kill(process.processIdentifier, SIGKILL)
                    throw TestSupportError("slot-worker did not exit within \(timeout); stderr: \(stderr.text)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            // Let the collectors drain to end of file (bounded: a grandchild could hold the pipe open).
            let drained = ContinuousClock.now + .seconds(2)
            while !(stdout.isAtEnd && stderr.isAtEnd), ContinuousClock.now < drained {
                try await Task.sleep(for: .milliseconds(10))
            }
            return Output(status: process.terminationStatus, stdout: stdout.text, stderr: stderr.text)
        }
    }
}
