import Foundation
public import Logging
public import Persistence
import Repositories
public import ServiceLifecycle

/// Samples slots per status (one `GROUP BY` over the status index) every `interval` and reports it to the
/// observer; stops on graceful shutdown. A failed sample is logged once and retried at the next interval.
public struct SlotStatsSampler: Service {
    let database: Database
    let interval: Duration
    let observer: any SlotTasksObserver
    let logger: Logger

    public init(database: Database, interval: Duration, observer: any SlotTasksObserver, logger: Logger) {
        self.database = database
        self.interval = interval
        self.observer = observer
        self.logger = logger
    }

    /// Takes one sample.
    public func sample() async throws {
        let counts = try await database.withSession { context in
            try await SlotRepository(context: context).countByStatus().get()
        }
        observer.slotsByStatus(counts)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await sample()
                    failing = false
                } catch {
                    if !failing { logger.warning("cannot sample slots by status", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
