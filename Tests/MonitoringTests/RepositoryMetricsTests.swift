import Monitoring
import MonitoringAdapters
import Persistence
import Testing

@Suite("RepositoryMetrics")
struct RepositoryMetricsTests {
    static let durationName = "slotworker_repository_operation_duration_seconds"
    static let failuresName = "slotworker_repository_operation_failures_total"

    @Test("prepare creates every label set at 0")
    func prepareCreatesZeroSeries() throws {
        let registry = makeRegistry()
        let metrics = RepositoryMetrics(registry: registry)
        metrics.prepare(repository: "slots", operations: ["find", "insert", "delete"])
        let exposition = try registry.parsed()
        for operation in ["find", "insert", "delete"] {
            let labels = ["repository": "slots", "operation": operation]
            #expect(exposition.value(Self.durationName + "_count", labels) == 0)
            #expect(exposition.value(Self.durationName + "_bucket", labels.merging(["le": "+Inf"]) { $1 }) == 0)
        }
        for error in RepositoryErrorClass.allCases {
            #expect(exposition.value(Self.failuresName, ["repository": "slots", "error": error.rawValue]) == 0)
        }
        for outcome in TransactionOutcome.allCases {
            #expect(exposition.value("slotworker_transactions_total", ["outcome": outcome.rawValue]) == 0)
        }
        #expect(exposition.value("slotworker_transaction_duration_seconds_count") == 0)
        #expect(exposition.samples(named: Self.failuresName).count == 4)
        #expect(exposition.samples(named: Self.durationName + "_count").count == 3)
        // One series of 9 buckets + Inf + sum + count per operation: the budget a worker's ~80 operations fit in.
        #expect(exposition.samples.filter { $0.name.hasPrefix(Self.durationName) }.count == 3 * 12)
    }

    @Test("counters and histograms move exactly as recorded")
    func exactCounts() throws {
        let registry = makeRegistry()
        let metrics = RepositoryMetrics(registry: registry)
        metrics.prepare(repository: "slots", operations: ["find"])
        for duration: Duration in [.microseconds(50), .microseconds(300), .milliseconds(2)] {
            metrics.recordOperation(repository: "slots", operation: "find", duration: duration, error: nil)
        }
        metrics.recordOperation(repository: "slots", operation: "find", duration: .milliseconds(1), error: .notFound)
        metrics.recordOperation(repository: "slots", operation: "find", duration: .milliseconds(10), error: .database)
        metrics.recordOperation(repository: "slots", operation: "find", duration: .milliseconds(20), error: .database)
        // Not prepared: created on first use.
        metrics.recordOperation(repository: "rooms", operation: "lock", duration: .seconds(10), error: .conflict)
        metrics.recordTransaction(outcome: .committed, duration: .milliseconds(3))
        metrics.recordTransaction(outcome: .committed, duration: .milliseconds(7))
        metrics.recordTransaction(outcome: .rolledBack, duration: .milliseconds(1))

        let exposition = try registry.parsed()
        // Successes and failures share the operation's one histogram.
        let find = ["repository": "slots", "operation": "find"]
        func bucket(_ le: String, _ labels: [String: String]) -> Double? {
            exposition.value(Self.durationName + "_bucket", labels.merging(["le": le]) { $1 })
        }
        #expect(bucket("0.00025", find) == 1)
        #expect(bucket("0.0005", find) == 2)
        #expect(bucket("0.001", find) == 3)
        #expect(bucket("0.0025", find) == 4)
        #expect(bucket("0.005", find) == 4)
        #expect(bucket("0.01", find) == 5)
        #expect(bucket("0.025", find) == 6)
        #expect(bucket("+Inf", find) == 6)
        #expect(exposition.value(Self.durationName + "_count", find) == 6)
        let sum = try #require(exposition.value(Self.durationName + "_sum", find))
        #expect(abs(sum - 0.03335) < 1e-12)

        let failures = { (error: String) in
            exposition.value(Self.failuresName, ["repository": "slots", "error": error])
        }
        #expect(failures("not_found") == 1)
        #expect(failures("database") == 2)
        #expect(failures("validation") == 0)
        #expect(failures("conflict") == 0)

        let rooms = ["repository": "rooms", "operation": "lock"]
        #expect(bucket("0.5", rooms) == 0)
        #expect(bucket("+Inf", rooms) == 1)
        #expect(exposition.value(Self.failuresName, ["repository": "rooms", "error": "conflict"]) == 1)
        #expect(exposition.value(Self.failuresName, ["repository": "rooms", "error": "database"]) == 0)

        #expect(exposition.value("slotworker_transactions_total", ["outcome": "committed"]) == 2)
        #expect(exposition.value("slotworker_transactions_total", ["outcome": "rolled_back"]) == 1)
        #expect(exposition.value("slotworker_transactions_total", ["outcome": "failed"]) == 0)
        #expect(exposition.value("slotworker_transaction_duration_seconds_count") == 3)
        let transactionSum = try #require(exposition.value("slotworker_transaction_duration_seconds_sum"))
        #expect(abs(transactionSum - 0.011) < 1e-12)
        #expect(exposition.duplicateSeries.isEmpty)
    }

    @Test("two RepositoryMetrics on one registry share the series")
    func sharedSeries() throws {
        let registry = makeRegistry()
        let first = RepositoryMetrics(registry: registry)
        let second = RepositoryMetrics(registry: registry)
        first.recordOperation(repository: "slots", operation: "find", duration: .milliseconds(1), error: .validation)
        second.recordOperation(repository: "slots", operation: "find", duration: .milliseconds(1), error: .validation)
        second.recordTransaction(outcome: .failed, duration: .milliseconds(1))
        let exposition = try registry.parsed()
        #expect(
            exposition.value(Self.failuresName, ["repository": "slots", "error": "validation"]) == 2)
        #expect(exposition.value("slotworker_transactions_total", ["outcome": "failed"]) == 1)
        #expect(exposition.duplicateSeries.isEmpty)
        #expect(registry.conflicts.isEmpty)
    }

    @Test("recordOperation is cheap once the series exist")
    func recordCost() {
        let registry = makeRegistry()
        let metrics = RepositoryMetrics(registry: registry)
        metrics.prepare(repository: "slots", operations: ["find"])
        // The best of several rounds, so a busy machine (tests run in parallel) does not distort the figure.
        let iterations = 20_000
        let clock = ContinuousClock()
        let best = (0..<10).map { _ in
            clock.measure {
                for _ in 0..<iterations {
                    metrics.recordOperation(
                        repository: "slots",
                        operation: "find",
                        duration: .microseconds(80),
                        error: nil
                    )
                }
            }
        }.min()!
        let perCall = best / iterations
        // The goal is ≤ 1 µs in release builds; debug builds (tests) are several times slower, so allow 10 µs here.
        #expect(perCall < .microseconds(10), "recordOperation took \(perCall) per call")
    }
}
