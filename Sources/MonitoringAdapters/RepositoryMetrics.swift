public import Monitoring
public import Persistence
import Prometheus
import Synchronization

/// Metrics of the persistence layer, fed through its single instrumentation seam (`RepositoryObserver`).
///
/// | metric | labels |
/// |---|---|
/// | `slotworker_repository_operation_duration_seconds` (histogram) | `repository`, `operation`, `outcome` = `success` or `failure` |
/// | `slotworker_repository_operation_failures_total` | `repository`, `operation`, `error` = `not_found`, `validation`, `conflict`, `database` |
/// | `slotworker_transactions_total` | `outcome` = `committed`, `rolled_back`, `failed` |
/// | `slotworker_transaction_duration_seconds` (histogram) | `outcome` |
///
/// The duration histogram splits only success from failure (keeping its series count low); the error class of a
/// failure is counted in `…_failures_total`. ``prepare(repository:operations:)`` creates every series of a repository
/// at 0; operations that were not prepared get their series on first use.
///
/// Cost: ``recordOperation(repository:operation:duration:error:)`` takes one short lock for a dictionary lookup of
/// cached handles, then updates them; it never touches the registry after the first call for an operation.
public final class RepositoryMetrics: RepositoryObserver {
    /// Histogram buckets for repository operations, from 100 µs to 5 s.
    public static let operationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]
    /// Histogram buckets for whole transactions, from 500 µs to 10 s.
    public static let transactionBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    private struct OperationKey: Hashable, Sendable {
        var repository: String
        var operation: String
    }

    private struct OperationHandles: Sendable {
        var success: HistogramSeries
        var failure: HistogramSeries
        /// Indexed like `RepositoryErrorClass.allCases`.
        var failures: [Counter]
    }

    private struct TransactionHandles: Sendable {
        var count: Counter
        var duration: HistogramSeries
    }

    private let registry: MetricsRegistry
    private let operations = Mutex<[OperationKey: OperationHandles]>([:])
    private let transactions: [TransactionOutcome: TransactionHandles]

    /// Defines the transaction metrics (all outcomes at 0); operation series are created by ``prepare``.
    public init(registry: MetricsRegistry) {
        self.registry = registry
        var transactions: [TransactionOutcome: TransactionHandles] = [:]
        for outcome in TransactionOutcome.allCases {
            let labels = ["outcome": outcome.rawValue]
            transactions[outcome] = TransactionHandles(
                count: registry.counter(
                    "slotworker_transactions_total",
                    help: "Units of Work finished, by outcome.",
                    labels: labels
                ),
                duration: registry.durationHistogram(
                    "slotworker_transaction_duration_seconds",
                    help: "Duration of Units of Work from BEGIN to COMMIT or ROLLBACK, by outcome.",
                    labels: labels,
                    buckets: Self.transactionBuckets
                )
            )
        }
        self.transactions = transactions
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
        guard let error else {
            handles.success.record(duration)
            return
        }
        handles.failure.record(duration)
        handles.failures[Self.index(of: error)].increment()
    }

    public func recordTransaction(outcome: TransactionOutcome, duration: Duration) {
        guard let handles = self.transactions[outcome] else { return }
        handles.count.increment()
        handles.duration.record(duration)
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
        func histogram(_ outcome: String) -> HistogramSeries {
            self.registry.durationHistogram(
                "slotworker_repository_operation_duration_seconds",
                help: "Duration of repository operations, by repository, operation and outcome (success or failure).",
                labels: ["repository": key.repository, "operation": key.operation, "outcome": outcome],
                buckets: Self.operationBuckets
            )
        }
        let failures = RepositoryErrorClass.allCases.map { error in
            self.registry.counter(
                "slotworker_repository_operation_failures_total",
                help: "Failed repository operations, by repository, operation and error class.",
                labels: ["repository": key.repository, "operation": key.operation, "error": error.rawValue]
            )
        }
        return OperationHandles(success: histogram("success"), failure: histogram("failure"), failures: failures)
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
