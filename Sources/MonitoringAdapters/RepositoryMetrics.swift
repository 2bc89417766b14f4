public import Monitoring
public import Persistence
import Prometheus
import Synchronization

/// Metrics of the persistence layer, fed through its single instrumentation seam (`RepositoryObserver`).
///
/// | metric | labels |
/// |---|---|
/// | `slotworker_repository_operation_duration_seconds` (histogram) | `repository`, `operation` |
/// | `slotworker_repository_operation_failures_total` | `repository`, `error` = `not_found`, `validation`, `conflict`, `database` |
/// | `slotworker_transactions_total` | `outcome` = `committed`, `rolled_back`, `failed` |
/// | `slotworker_transaction_duration_seconds` (histogram) | — |
///
/// Series are budgeted (a worker has about 80 operations): one duration histogram per operation, successes and
/// failures alike, with 9 buckets; failures are counted per repository and error class (which operation failed is
/// in the error itself, `RepositoryError`'s operation); the transaction histogram has no outcome (the outcome is
/// counted in `…_transactions_total`). ``prepare(repository:operations:)`` creates every series of a repository at 0;
/// operations that were not prepared get their series on first use.
///
/// Cost: ``recordOperation(repository:operation:duration:error:)`` takes one short lock for a dictionary lookup of
/// cached handles, then updates them; it never touches the registry after the first call for an operation.
public final class RepositoryMetrics: RepositoryObserver {
    /// Histogram buckets for repository operations, from 250 µs (a point query on a near server) to 500 ms (slower
    /// lands in `+Inf`, where `histogram_quantile` reports the top bound).
    public static let operationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500),
    ]
    /// Histogram buckets for whole transactions, from 1 ms to 5 s.
    public static let transactionBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    private struct OperationKey: Hashable, Sendable {
        var repository: String
        var operation: String
    }

    private struct OperationHandles: Sendable {
        var duration: HistogramSeries
        /// The repository's failure counters, indexed like `RepositoryErrorClass.allCases`.
        var failures: [Counter]
    }

    private let registry: MetricsRegistry
    private let operations = Mutex<[OperationKey: OperationHandles]>([:])
    private let transactionCounts: [TransactionOutcome: Counter]
    private let transactionDuration: HistogramSeries

    /// Defines the transaction metrics (all outcomes at 0); operation series are created by ``prepare``.
    public init(registry: MetricsRegistry) {
        self.registry = registry
        var counts: [TransactionOutcome: Counter] = [:]
        for outcome in TransactionOutcome.allCases {
            counts[outcome] = registry.counter(
                "slotworker_transactions_total",
                help: "Units of Work finished, by outcome.",
                labels: ["outcome": outcome.rawValue]
            )
        }
        self.transactionCounts = counts
        self.transactionDuration = registry.durationHistogram(
            "slotworker_transaction_duration_seconds",
            help: "Duration of Units of Work from BEGIN to COMMIT or ROLLBACK, whatever their outcome.",
            buckets: Self.transactionBuckets
        )
    }

    public func prepare(repository: String, operations: [String]) {
        for operation in operations {
            _ = self.handles(OperationKey(repository: repository, operation: operation))
        }
    }

    public func recordOperation(
        repository: String,
        operation: String,
        duration: Duration,
        error: RepositoryErrorClass?
    ) {
        let handles = self.handles(OperationKey(repository: repository, operation: operation))
        handles.duration.record(duration)
        if let error {
            handles.failures[Self.index(of: error)].increment()
        }
    }

    public func recordTransaction(outcome: TransactionOutcome, duration: Duration) {
        self.transactionCounts[outcome]?.increment()
        self.transactionDuration.record(duration)
    }

    private func handles(_ key: OperationKey) -> OperationHandles {
        if let cached = self.operations.withLock({ $0[key] }) {
            return cached
        }
        // First use: define outside the lock (the registry takes its own locks), then publish; a concurrent first use
        // defines the same series and gets the same handles back from the registry.
        let handles = self.makeHandles(key)
        return self.operations.withLock { operations in
            if let raced = operations[key] { return raced }
            operations[key] = handles
            return handles
        }
    }

    private func makeHandles(_ key: OperationKey) -> OperationHandles {
        let duration = self.registry.durationHistogram(
            "slotworker_repository_operation_duration_seconds",
            help: "Duration of repository operations (successful or not), by repository and operation.",
            labels: ["repository": key.repository, "operation": key.operation],
            buckets: Self.operationBuckets
        )
        // The registry returns the same counters for every operation of a repository.
        let failures = RepositoryErrorClass.allCases.map { error in
            self.registry.counter(
                "slotworker_repository_operation_failures_total",
                help: "Failed repository operations, by repository and error class.",
                labels: ["repository": key.repository, "error": error.rawValue]
            )
        }
        return OperationHandles(duration: duration, failures: failures)
    }

    private static func index(of error: RepositoryErrorClass) -> Int {
        switch error {
        case .notFound: 0
        case .validation: 1
        case .conflict: 2
        case .database: 3
        }
    }
}
