public import Monitoring
public import PostgresClient
import Prometheus
import Synchronization

/// Metrics of the PostgreSQL connection pool.
///
/// | metric | labels |
/// |---|---|
/// | `slotworker_db_pool_connections` (gauge) | `state` = `idle`, `in_use`, `waiting` (callers waiting), `max` |
/// | `slotworker_db_pool_acquire_wait_seconds` (histogram) | — |
/// | `slotworker_db_pool_errors_total` | `event` = every `PostgresPoolEvent` (all start at 0) |
///
/// The `state` values are a snapshot, not parts of one whole: `waiting` counts callers and `max` is the limit, so
/// never `sum()` over `state`; saturation is `in_use / max`.
///
/// The connection gauges are refreshed before every scrape from the statistics closure (``setStatisticsSource(_:)``
/// or the initializer), which must return a snapshot without blocking. The pool calls the observer methods.
public final class PoolMetrics: PostgresPoolObserver {
    /// Histogram buckets for acquire waits, from 100 µs to 10 s.
    public static let acquireWaitBuckets: [Duration] = [
        .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    private let idle: Gauge
    private let inUse: Gauge
    private let waiting: Gauge
    private let maximum: Gauge
    private let acquireWait: HistogramSeries
    private let errors: [PostgresPoolEvent: Counter]
    /// The statistics closure, boxed: a closure stored directly as a `Mutex`'s value gains two reabstraction
    /// thunks on every `withLock` that reads it (Swift 6.3: the `inout` value is converted and written back), so
    /// each scrape would lengthen a chain of thunks (memory, time per scrape, and finally the stack).
    private let source = Mutex<StatisticsSource?>(nil)

    private struct StatisticsSource: Sendable {
        let statistics: @Sendable () -> PostgresPoolStatistics
    }

    /// Defines the metrics in `registry` and refreshes the connection gauges before every scrape.
    ///
    /// - Parameter statistics: returns the pool's current statistics without blocking; may be set later with
    ///   ``setStatisticsSource(_:)`` (the pool usually needs this observer before it exists).
    public init(registry: MetricsRegistry, statistics: (@Sendable () -> PostgresPoolStatistics)? = nil) {
        func connections(_ state: String) -> Gauge {
            registry.gauge(
                "slotworker_db_pool_connections",
                help: "Pool snapshot: idle and in_use connections, waiting callers, and the max connections.",
                labels: ["state": state]
            )
        }
        self.idle = connections("idle")
        self.inUse = connections("in_use")
        self.waiting = connections("waiting")
        self.maximum = connections("max")
        self.acquireWait = registry.durationHistogram(
            "slotworker_db_pool_acquire_wait_seconds",
            help: "Time callers waited to get a pooled connection.",
            buckets: Self.acquireWaitBuckets
        )
        var errors: [PostgresPoolEvent: Counter] = [:]
        for event in PostgresPoolEvent.allCases {
            errors[event] = registry.counter(
                "slotworker_db_pool_errors_total",
                help: "Pool failures: acquire timeouts, failed connects, broken connections.",
                labels: ["event": event.rawValue]
            )
        }
        self.errors = errors
        self.source.withLock { $0 = statistics.map(StatisticsSource.init) }
        registry.addPreScrapeHook { [self] in self.refresh() }
    }

    /// Sets (or replaces) the closure that reports the pool's statistics.
    public func setStatisticsSource(_ statistics: @escaping @Sendable () -> PostgresPoolStatistics) {
        self.source.withLock { $0 = StatisticsSource(statistics: statistics) }
    }

    /// Copies the current statistics into the gauges (called before every scrape).
    public func refresh() {
        guard let statistics = self.source.withLock({ $0 })?.statistics() else { return }
        self.idle.set(to: Double(statistics.idle))
        self.inUse.set(to: Double(statistics.inUse))
        self.waiting.set(to: Double(statistics.waiting))
        self.maximum.set(to: Double(statistics.maxConnections))
    }

    public func didAcquire(wait: Duration) {
        self.acquireWait.record(wait)
    }

    public func didRecord(_ event: PostgresPoolEvent) {
        self.errors[event]?.increment()
    }
}
