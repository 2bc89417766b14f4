import Foundation
public import Logging
import Persistence
public import PostgresClient
public import ServiceLifecycle

/// Keeps this worker's row in `workers` (id, host, pid, queue, concurrency, start and heartbeat times) current, for
/// the console's worker page: an upsert every ``interval``, rows silent for 10 intervals are forgotten by whichever
/// worker notices, and the row is deleted on graceful shutdown. Jobs in flight are counted from `jobs.locked_by`
/// when the page is read, so the registry never lags behind them. A failed write is logged once and retried at the
/// next interval; it never stops the worker.
public struct WorkerPresence: Service {
    private let pool: PostgresPool
    private let configuration: JobRunnerConfiguration
    private let interval: Duration
    private let logger: Logger

    public init(pool: PostgresPool, configuration: JobRunnerConfiguration, interval: Duration? = nil, logger: Logger) {
        self.pool = pool
        self.configuration = configuration
        self.interval = interval ?? max(.seconds(1), min(configuration.heartbeatInterval, .seconds(5)))
        self.logger = logger
    }

    /// One upsert plus the cleanup of silent workers.
    public func beat() async throws {
        let host = ProcessInfo.processInfo.hostName
        _ = try await pool.query(
            OperatorSQL.heartbeatWorker,
            [configuration.workerID, host, Int(getpid()), configuration.queue, configuration.concurrency],
            operation: "workers.heartbeat"
        )
        _ = try await pool.query(
            OperatorSQL.forgetSilentWorkers, [interval.seconds * 10], operation: "workers.forget")
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await beat()
                    failing = false
                } catch {
                    if !failing { logger.warning("cannot update the worker registry", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
        _ = try? await pool.query(
            OperatorSQL.unregisterWorker, [configuration.workerID], operation: "workers.unregister")
    }
}
