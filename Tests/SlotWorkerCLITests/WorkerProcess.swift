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

    /// Starts `slot-worker ARGS` and returns the running process.
    static func start(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
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
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return Running(process: process, stdout: Collector(out), stderr: Collector(err))
    }

    /// Collects a pipe's output on a background reader so the child never blocks on a full pipe.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()

        init(_ pipe: Pipe) {
            pipe.fileHandleForReading.readabilityHandler = { [self] handle in
                let chunk = handle.availableData
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
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
            try await Task.sleep(for: .milliseconds(50))  // let the collectors drain
            return Output(status: process.terminationStatus, stdout: stdout.text, stderr: stderr.text)
        }
    }
}
