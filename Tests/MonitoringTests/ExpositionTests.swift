import Foundation
import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient
import Testing

/// A registry with every metric family SlotWorker's monitoring defines, some of them moved.
func makeFullRegistry() -> (MetricsRegistry, MonitoringEndpoints) {
    let registry = makeRegistry()
    _ = ProcessMetrics(registry: registry)
    BuildInfo(version: "1.2.3", extraLabels: ["revision": "abc123"]).register(in: registry)
    let repository = RepositoryMetrics(registry: registry)
    repository.prepare(repository: "slots", operations: ["find", "insert"])
    repository.prepare(repository: "recruiters", operations: ["find"])
    repository.recordOperation(repository: "slots", operation: "find", duration: .microseconds(300), error: nil)
    repository.recordOperation(repository: "slots", operation: "insert", duration: .milliseconds(3), error: .conflict)
    repository.recordTransaction(outcome: .committed, duration: .milliseconds(4))
    let pool = PoolMetrics(registry: registry) {
        PostgresPoolStatistics(idle: 1, inUse: 2, waiting: 0, maxConnections: 4)
    }
    pool.didAcquire(wait: .microseconds(20))
    pool.didRecord(.connectFailed)
    let endpoints = MonitoringEndpoints(registry: registry, health: HealthState())
    return (registry, endpoints)
}

@Suite("Exposition of all SlotWorker monitoring metrics")
struct ExpositionTests {
    @Test("passes promtool check metrics")
    func promtool() throws {
        let (registry, endpoints) = makeFullRegistry()
        _ = endpoints.handle(HTTPRequestFixture.get("/nowhere"))
        try expectPromtoolAccepts(registry.renderString())
    }

    @Test("parses with prometheus_client and agrees with our parser")
    func pythonClient() throws {
        let (registry, _) = makeFullRegistry()
        let text = registry.renderString()
        let ours = try Exposition(text)
        let theirs = try parseWithPythonClient(text)
        #expect(theirs.count == ours.samples.count)
        let theirFamilies = Set(theirs.compactMap { $0[0] as? String })
        for family in [
            "slotworker_repository_operation_duration_seconds", "slotworker_repository_operation_failures",
            "slotworker_transactions", "slotworker_transaction_duration_seconds", "slotworker_db_pool_connections",
            "slotworker_db_pool_acquire_wait_seconds", "slotworker_db_pool_errors", "slotworker_build_info",
            "slotworker_http_requests", "process_cpu_seconds", "process_resident_memory_bytes",
            "process_virtual_memory_bytes", "process_start_time_seconds", "process_open_fds", "process_max_fds",
        ] {
            #expect(theirFamilies.contains(family), "\(family) missing")
        }
        let failures = theirs.first {
            ($0[2] as? String) == "slotworker_repository_operation_failures_total"
                && ($0[3] as? [String: String])
                    == ["repository": "slots", "error": "conflict"]
        }
        #expect(failures?[4] as? Double == 1)
    }

    @Test("no duplicate series, one HELP and TYPE per family, histograms well formed, final newline")
    func structure() throws {
        let (registry, _) = makeFullRegistry()
        let text = registry.renderString()
        #expect(text.hasSuffix("\n"))
        let exposition = try Exposition(text)  // throws on a repeated HELP or TYPE
        #expect(exposition.duplicateSeries.isEmpty)
        #expect(exposition.histogramProblems.isEmpty, "\(exposition.histogramProblems)")
        for family in exposition.types.keys {
            #expect(exposition.helps[family]?.isEmpty == false, "\(family) lacks HELP")
        }
        #expect(exposition.types["slotworker_repository_operation_duration_seconds"] == "histogram")
        #expect(exposition.types["process_cpu_seconds_total"] == "counter")
        #expect(
            exposition.value(
                "slotworker_build_info",
                ["version": "1.2.3", "swift_version": BuildInfo.compilerVersion, "revision": "abc123"])
                == 1
        )
    }

    @Test("histogram buckets are rendered in seconds, sub-millisecond first")
    func bucketBounds() throws {
        let (registry, _) = makeFullRegistry()
        let bounds = try registry.parsed().samples(named: "slotworker_repository_operation_duration_seconds_bucket")
            .filter {
                $0.labels["repository"] == "slots" && $0.labels["operation"] == "find"
            }
            .map { $0.labels["le"]! }
        #expect(
            bounds == ["0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.1", "0.5", "+Inf"]
        )
    }
}
