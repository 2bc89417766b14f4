import Foundation
import JobQueue
import Logging
import Monitoring
import MonitoringAdapters
import Persistence
import Testing

extension RunnerSuite {
    @Suite("Prometheus metrics")
    struct MetricsTests {
        /// Parses `name{labels} value` lines of the exposition into a dictionary keyed by `name{labels}`.
        static func samples(_ text: String) -> [String: Double] {
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    continue
                }
                samples[String(line[..<space])] = value
            }
            return samples
        }

        @Test("a worker's runner, scheduler, rescuer and sampler feed the fixed metric names")
        func metrics() async throws {
            let database = try await makeDatabase()
            let registry = MetricsRegistry(logger: testLogger)
            let metrics = PrometheusJobQueueMetrics(registry: registry)
            let client = JobQueueClient(database: database)
            _ = try await client.enqueue((0..<20).map { _ in NewJob(kind: "noop") }).get()
            _ = try await client.enqueue(NewJob(kind: "fail", json: #"{"message": "x", "permanent": true}"#)).get()
            _ = try await client.enqueue(NewJob(kind: "mystery")).get()
            _ = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.seconds(600)))).get()
            let worker = JobQueueWorker(
                database: database,
                registry: JobRegistry(),
                configuration: testConfiguration(concurrency: 4),
                periodicJobs: [PeriodicJob(kind: "sleep", json: #"{"milliseconds": 1}"#, every: .seconds(60))],
                sampleInterval: .milliseconds(100),
                unrunnableAfter: .zero,
                observer: metrics,
                logger: testLogger
            )
            try await withServices(worker.services) {
                let reached = try await eventually { try await database.count(where: "finished_at IS NOT NULL") == 22 }
                #expect(reached)
                let during = Self.samples(registry.renderString())
                #expect(during["slotworker_jobs_capacity"] == 4)
                // A sample after the last completion (a slow sample spaces out the next one: wait for it, not a time).
                let sampled = try await eventually {
                    let samples = Self.samples(registry.renderString())
                    return samples[#"slotworker_jobs_queue_depth{state="available"}"#] == 1
                        && samples[#"slotworker_jobs_queue_depth{state="dead"}"#] == 1
                }
                #expect(sampled)
            }
            let samples = Self.samples(registry.renderString())
            #expect(samples[#"slotworker_jobs_finished_total{kind="noop",outcome="succeeded"}"#] == 20)
            #expect(samples[#"slotworker_jobs_finished_total{kind="fail",outcome="dead"}"#] == 1)
            #expect(samples[#"slotworker_jobs_finished_total{kind="mystery",outcome="dead"}"#] == nil)
            // The periodic job runs once per 60-s period: twice when the test spans a period boundary.
            let sleeps = samples[#"slotworker_jobs_finished_total{kind="sleep",outcome="succeeded"}"#] ?? 0
            #expect(sleeps == 1 || sleeps == 2)
            #expect(samples[#"slotworker_jobs_finished_total{kind="sleep",outcome="retried"}"#] == 0)
            #expect(samples[#"slotworker_jobs_run_duration_seconds_count{kind="noop"}"#] == 20)
            #expect(samples[#"slotworker_jobs_wait_seconds_count{kind="noop"}"#] == 20)
            #expect(samples["slotworker_jobs_claimed_total"] == 21 + sleeps)
            #expect((samples["slotworker_jobs_claim_size_count"] ?? 0) >= 1)
            #expect(samples["slotworker_jobs_in_flight"] == 0)
            #expect(samples["slotworker_jobs_capacity"] == 0)
            #expect(samples[#"slotworker_jobs_queue_depth{state="scheduled"}"#] == 1)
            // The job of a kind no worker runs stays ready, untouched, and is counted as unrunnable.
            #expect(samples[#"slotworker_jobs_queue_depth{state="available"}"#] == 1)
            #expect(samples[#"slotworker_jobs_queue_depth{state="dead"}"#] == 1)
            #expect((samples["slotworker_jobs_oldest_ready_age_seconds"] ?? 0) > 0)
            #expect(samples["slotworker_jobs_unrunnable"] == 1)
            #expect(samples["slotworker_db_xmin_horizon_age_seconds"] != nil)
            #expect(samples[#"slotworker_jobs_table_dead_tuples{table="jobs"}"#] != nil)
            #expect((samples[#"slotworker_jobs_table_size_bytes{part="heap",table="jobs"}"#] ?? 0) > 0)
            #expect((samples[#"slotworker_jobs_table_size_bytes{part="indexes",table="jobs"}"#] ?? 0) > 0)
            #expect((samples[#"slotworker_jobs_table_vacuum_age_seconds{table="jobs"}"#] ?? -1) >= 0)
            #expect(samples["slotworker_jobs_rescued_total"] == 0)
            let lastPoll = try #require(samples["slotworker_jobs_last_poll_success_timestamp_seconds"])
            #expect(abs(lastPoll - Date().timeIntervalSince1970) < 10)
            #expect(registry.conflicts.isEmpty)
        }
    }
}
