public import Foundation
public import JobQueue
public import Monitoring
import Prometheus
import Synchronization

/// The job queue's metrics in the process's ``MetricsRegistry``.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `slotworker_jobs_finished_total` | counter | `kind`, `outcome` = succeeded, retried, dead, cancelled, snoozed |
/// | `slotworker_jobs_run_duration_seconds` | histogram | `kind` |
/// | `slotworker_jobs_wait_seconds` | histogram (`run_at` → claim) | `kind` |
/// | `slotworker_jobs_in_flight` | gauge | — |
/// | `slotworker_jobs_capacity` | gauge | — |
/// | `slotworker_jobs_queue_depth` | gauge (whole queue, from the sampler) | `state` = scheduled, available, running, dead |
/// | `slotworker_jobs_oldest_ready_age_seconds` | gauge (from the sampler) | — |
/// | `slotworker_jobs_claimed_total` | counter | — |
/// | `slotworker_jobs_claim_size` | histogram (claims that returned jobs) | — |
/// | `slotworker_jobs_rescued_total` | counter | — |
/// | `slotworker_jobs_last_poll_success_timestamp_seconds` | gauge (Unix time) | — |
/// | `slotworker_jobs_unrunnable` | gauge (from the sampler) | — |
/// | `slotworker_db_xmin_horizon_age_seconds` | gauge (from the sampler) | — |
/// | `slotworker_jobs_table_dead_tuples` | gauge (from the sampler) | `table` = jobs, job_workers, periodic_runs |
/// | `slotworker_jobs_table_size_bytes` | gauge (from the sampler) | `table`, `part` = heap, indexes |
/// | `slotworker_jobs_table_vacuum_age_seconds` | gauge (from the sampler) | `table` |
///
/// `kind` is bounded: the runner passes registered kinds only. ``prepare(kinds:)`` creates every
/// series of those kinds at 0. Updating takes one short lock (a dictionary lookup of cached handles).
public final class PrometheusJobQueueMetrics: JobQueueObserver {
    /// Attempt durations, from 5 ms to 10 min (10 buckets per kind: the run and wait histograms are most of a kind's
    /// series).
    public static let runDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .seconds(1),
        .milliseconds(2500), .seconds(10), .seconds(30), .seconds(120), .seconds(600),
    ]
    /// Waits from due to claim, from 2.5 ms (a job claimed on its NOTIFY) to 1 h.
    public static let waitBuckets: [Duration] = [
        .microseconds(2500), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1), .seconds(5),
        .seconds(30), .seconds(60), .seconds(300), .seconds(3600),
    ]
    /// Jobs per claim.
    public static let claimSizeBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

    private struct KindHandles: Sendable {
        var finished: [JobOutcome: Counter]
        var runDuration: HistogramSeries
        var wait: HistogramSeries
    }

    private let registry: MetricsRegistry
    private let kinds = Mutex<[String: KindHandles]>([:])
    private let inFlight: Gauge
    private let capacity: Gauge
    private let depth: [JobState: Gauge]
    private let oldestReadyAge: Gauge
    private let claimedTotal: Counter
    private let claimSize: HistogramSeries
    private let rescuedTotal: Counter
    private let lastPollSuccess: Gauge
    private let unrunnable: Gauge
    private let horizonAge: Gauge
    private let tables: [String: TableHandles]

    private struct TableHandles: Sendable {
        var deadTuples: Gauge
        var heapBytes: Gauge
        var indexBytes: Gauge
        var vacuumAge: Gauge
    }

    /// The tables the sampler reports (its `tableStats` statement reads exactly these).
    public static let queueTables = ["jobs", "job_workers", "periodic_runs"]

    /// Defines the kind-independent metrics; kind series are made by ``prepare(kinds:)`` or on first use.
    public init(registry: MetricsRegistry) {
        self.registry = registry
        inFlight = registry.gauge("slotworker_jobs_in_flight", help: "Jobs running in handlers of this process.")
        capacity = registry.gauge(
            "slotworker_jobs_capacity",
            help: "Jobs this process can run at once (sum of its runners' concurrency)."
        )
        var depth: [JobState: Gauge] = [:]
        for state in QueueSample.sampledStates {
            depth[state] = registry.gauge(
                "slotworker_jobs_queue_depth",
                help: "Jobs in the whole queue by state, sampled from the database.",
                labels: ["state": state.rawValue]
            )
        }
        self.depth = depth
        oldestReadyAge = registry.gauge(
            "slotworker_jobs_oldest_ready_age_seconds",
            help: "Seconds since the oldest ready (available) job became due; 0 when none waits."
        )
        claimedTotal = registry.counter("slotworker_jobs_claimed_total", help: "Jobs claimed by this process.")
        claimSize = registry.valueHistogram(
            "slotworker_jobs_claim_size",
            help: "Jobs per claim statement that returned any.",
            buckets: Self.claimSizeBuckets
        )
        rescuedTotal = registry.counter(
            "slotworker_jobs_rescued_total",
            help: "Running jobs whose lease lapsed, taken back by this process's rescuer."
        )
        lastPollSuccess = registry.gauge(
            "slotworker_jobs_last_poll_success_timestamp_seconds",
            help: "Unix time of this process's last successful claim or promotion round."
        )
        unrunnable = registry.gauge(
            "slotworker_jobs_unrunnable",
            help: "Ready jobs waiting over a minute whose kind no live worker runs (sampled; rolling deploys)."
        )
        horizonAge = registry.gauge(
            "slotworker_db_xmin_horizon_age_seconds",
            help: "Seconds the oldest transaction or snapshot holding back VACUUM has been open (sampled)."
        )
        var tables: [String: TableHandles] = [:]
        for table in Self.queueTables {
            tables[table] = TableHandles(
                deadTuples: registry.gauge(
                    "slotworker_jobs_table_dead_tuples",
                    help: "Dead tuples of a job-queue table, from pg_stat_user_tables (sampled).",
                    labels: ["table": table]
                ),
                heapBytes: registry.gauge(
                    "slotworker_jobs_table_size_bytes",
                    help: "Size of a job-queue table: heap and TOAST, or its indexes (sampled).",
                    labels: ["table": table, "part": "heap"]
                ),
                indexBytes: registry.gauge(
                    "slotworker_jobs_table_size_bytes",
                    help: "Size of a job-queue table: heap and TOAST, or its indexes (sampled).",
                    labels: ["table": table, "part": "indexes"]
                ),
                vacuumAge: registry.gauge(
                    "slotworker_jobs_table_vacuum_age_seconds",
                    help: "Seconds since a job-queue table was last vacuumed or autovacuumed (sampled).",
                    labels: ["table": table]
                )
            )
        }
        self.tables = tables
    }

    public func prepare(kinds: [String]) {
        for kind in kinds { _ = handles(kind) }
    }

    public func capacityChanged(by delta: Int) {
        capacity.increment(by: Double(delta))
    }

    public func inFlightChanged(by delta: Int) {
        inFlight.increment(by: Double(delta))
    }

    public func claimed(count: Int) {
        guard count > 0 else { return }
        claimedTotal.increment(by: Int64(count))
        claimSize.record(Double(count))
    }

    public func started(kind: String, wait: Duration) {
        handles(kind).wait.record(wait)
    }

    public func finished(kind: String, outcome: JobOutcome, duration: Duration) {
        let handles = handles(kind)
        handles.finished[outcome]?.increment()
        handles.runDuration.record(duration)
    }

    public func rescued(count: Int) {
        rescuedTotal.increment(by: Int64(count))
    }

    public func sampled(_ sample: QueueSample) {
        for (state, gauge) in depth {
            gauge.set(to: Double(sample.depth[state] ?? 0))
        }
        oldestReadyAge.set(to: sample.oldestReadyAge)
        unrunnable.set(to: Double(sample.unrunnable))
        horizonAge.set(to: sample.horizonAge)
        for table in sample.tables {
            guard let handles = tables[table.name] else { continue }
            handles.deadTuples.set(to: Double(table.deadTuples))
            handles.heapBytes.set(to: Double(table.tableBytes))
            handles.indexBytes.set(to: Double(table.indexBytes))
            handles.vacuumAge.set(to: table.vacuumAge)
        }
    }

    public func pollSucceeded(at date: Date) {
        lastPollSuccess.set(to: date.timeIntervalSince1970)
    }

    private func handles(_ kind: String) -> KindHandles {
        if let cached = kinds.withLock({ $0[kind] }) { return cached }
        var finished: [JobOutcome: Counter] = [:]
        for outcome in JobOutcome.allCases {
            finished[outcome] = registry.counter(
                "slotworker_jobs_finished_total",
                help: "Job attempts finished, by kind and outcome.",
                labels: ["kind": kind, "outcome": outcome.rawValue]
            )
        }
        let made = KindHandles(
            finished: finished,
            runDuration: registry.durationHistogram(
                "slotworker_jobs_run_duration_seconds",
                help: "Duration of job attempts (handler run time), by kind.",
                labels: ["kind": kind],
                buckets: Self.runDurationBuckets
            ),
            wait: registry.durationHistogram(
                "slotworker_jobs_wait_seconds",
                help: "Time from a job becoming due (run_at) to its claim, by kind.",
                labels: ["kind": kind],
                buckets: Self.waitBuckets
            )
        )
        return kinds.withLock { kinds in
            if let existing = kinds[kind] { return existing }
            kinds[kind] = made
            return made
        }
    }
}
