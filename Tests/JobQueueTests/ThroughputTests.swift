import Foundation
import JobQueue
import Persistence
import PostgresClient
import Testing

extension RunnerSuite {
    @Suite("Throughput")
    struct ThroughputTests {
        /// User plus system CPU time of this process.
        static func processCPUSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }

        @Test("no-op jobs: bulk enqueue, then drain with one and with two runners", arguments: [1, 2])
        func noopThroughput(runnerCount: Int) async throws {
            let database = try await makeDatabase()
            let count = 20_000
            let enqueueStart = ContinuousClock.now
            _ = try await JobQueueClient(database: database).enqueue((0..<count).map { _ in NewJob(kind: "noop") })
                .get()
            let enqueued = ContinuousClock.now - enqueueStart
            let observer = CountingObserver()
            let databases = (0..<runnerCount).map { _ in makeDatabase(sharing: database, maxConnections: 4) }
            let runners = databases.map {
                JobRunner(
                    configuration: testConfiguration(concurrency: 100),
                    registry: JobRegistry(),
                    database: $0,
                    observer: observer,
                    logger: testLogger
                )
            }
            let cpuBefore = Self.processCPUSeconds()
            let start = ContinuousClock.now
            let drained = try await withServices(runners) { () async throws -> Duration in
                let done = try await eventually(timeout: .seconds(120), every: .milliseconds(5)) {
                    observer.finished("noop", .succeeded) == count
                }
                #expect(done)
                return ContinuousClock.now - start
            }
            let cpu = Self.processCPUSeconds() - cpuBefore
            for workerDatabase in databases { await workerDatabase.pool.close() }
            print(
                "\(count) no-op jobs: enqueue \(enqueued) (\(Int(Double(count) / enqueued.seconds))/s); "
                    + "\(runnerCount) runner(s) × 100 drained in \(drained) (\(Int(Double(count) / drained.seconds))/s), "
                    + "\(observer.claims) claims, test process CPU \(cpu) s"
            )
            #expect(try await database.count(where: "state = 'succeeded' AND attempts = 1") == count)
        }
    }
}
