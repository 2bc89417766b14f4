import Foundation
public import Logging
public import Prometheus
import Synchronization

/// The process's one Prometheus registry: metric definitions with help text, pre-scrape hooks and rendering.
///
/// Contracts:
/// - Create exactly one per process and pass it to every component that defines metrics; the app bootstraps
///   swift-metrics with ``makeMetricsFactory()`` so library metrics land in the same registry (tests never bootstrap).
/// - Every own metric is defined through ``counter(_:help:labels:)``, ``gauge(_:help:labels:)``,
///   ``durationHistogram(_:help:labels:buckets:)`` or ``valueHistogram(_:help:labels:buckets:)``. Defining a name
///   again returns the existing family's series (with the first definition's help text and buckets); it never traps.
///   A definition that contradicts the first one (another metric type, other label names, or a name already taken
///   by swift-metrics) is logged as an error, recorded in ``conflicts`` and answered with a working metric that is
///   never exported, because swift-prometheus would `fatalError` on it.
/// - Labels are given as a dictionary and always emitted sorted by name (one helper, ``sortedLabels(_:)``), so the
///   same label set can never become two series.
/// - Defining metrics takes locks: do it once at setup and keep the returned handles; updating a handle is lock-free
///   (counters, gauges) or takes one short lock (histograms).
public final class MetricsRegistry: Sendable {
    /// The content type of ``render()``'s output: Prometheus text format 0.0.4.
    ///
    /// swift-prometheus writes only this format (OpenMetrics would need `# EOF`, counter families without `_total`
    /// and more), and answering 0.0.4 is always correct for Prometheus.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private enum Kind: String, Sendable {
        case counter
        case gauge
        case durationHistogram = "histogram (durations)"
        case valueHistogram = "histogram (values)"
        case swiftMetrics = "swift-metrics metric"
    }

    private struct Definition: Sendable {
        var kind: Kind
        var help: String
        var labelNames: [String]
        var durationBuckets: [Duration] = []
        var valueBuckets: [Double] = []
    }

    /// The underlying swift-prometheus registry for counters, gauges and swift-metrics metrics (rendering goes
    /// through ``render()`` so pre-scrape hooks run and histograms are included).
    public let prometheus: PrometheusCollectorRegistry
    /// A fresh registry, never rendered, for one definition that conflicts with an earlier one (a shared one could
    /// trap on conflicts among the conflicting definitions themselves).
    private var quarantine: PrometheusCollectorRegistry { PrometheusCollectorRegistry() }
    private let definitions = Mutex<[String: Definition]>([:])
    private let conflictNames = Mutex<[String]>([])
    private let hooks = Mutex<[@Sendable () -> Void]>([])
    /// Histogram families, rendered by this registry rather than swift-prometheus (see ``HistogramSeries``).
    private let histogramFamilies = Mutex<[String: HistogramFamily]>([:])
    /// Serializes scrapes (hooks, then emission); holds the last output size to pre-size the next buffer.
    private let scrapes = ScrapeCoalescer()
    private let logger: Logger

    /// Creates an empty registry.
    ///
    /// - Parameter logger: receives definition conflicts.
    public init(logger: Logger) {
        self.prometheus = PrometheusCollectorRegistry()
        self.logger = logger
    }

    // MARK: Definitions

    /// A counter series of family `name`; creates the family (with `help`) on first use.
    public func counter(_ name: String, help: String, labels: [String: String] = [:]) -> Counter {
        let requested = Definition(kind: .counter, help: help, labelNames: labels.keys.sorted())
        guard let definition = self.admit(name, requested) else {
            return self.quarantine.makeCounter(
                descriptor: Self.descriptor(name, help),
                labels: Self.sortedLabels(labels)
            )
        }
        return self.prometheus.makeCounter(
            descriptor: Self.descriptor(name, definition.help),
            labels: Self.sortedLabels(labels)
        )
    }

    /// A gauge series of family `name`; creates the family (with `help`) on first use.
    public func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> Gauge {
        let requested = Definition(kind: .gauge, help: help, labelNames: labels.keys.sorted())
        guard let definition = self.admit(name, requested) else {
            return self.quarantine.makeGauge(descriptor: Self.descriptor(name, help), labels: Self.sortedLabels(labels))
        }
        return self.prometheus.makeGauge(
            descriptor: Self.descriptor(name, definition.help),
            labels: Self.sortedLabels(labels)
        )
    }

    /// A histogram series of family `name` observing durations (rendered in seconds); creates the family on first
    /// use. `buckets` are the upper bounds in ascending order (`+Inf` is implicit); later definitions of the same
    /// family get the first definition's buckets.
    public func durationHistogram(
        _ name: String,
        help: String,
        labels: [String: String] = [:],
        buckets: [Duration]
    ) -> HistogramSeries {
        let requested = Definition(
            kind: .durationHistogram,
            help: help,
            labelNames: labels.keys.sorted(),
            durationBuckets: buckets
        )
        return self.histogram(name, requested, labels) { $0.durationBuckets.map(HistogramBound.init) }
    }

    /// A histogram series of family `name` observing plain values; creates the family on first use. `buckets` are the
    /// upper bounds in ascending order (`+Inf` is implicit); later definitions get the first definition's buckets.
    public func valueHistogram(
        _ name: String,
        help: String,
        labels: [String: String] = [:],
        buckets: [Double]
    ) -> HistogramSeries {
        let requested = Definition(
            kind: .valueHistogram,
            help: help,
            labelNames: labels.keys.sorted(),
            valueBuckets: buckets
        )
        return self.histogram(name, requested, labels) { $0.valueBuckets.map(HistogramBound.init) }
    }

    /// Admits `requested` and returns its series (the family created on first use, with the first definition's
    /// help and buckets), or, when the definition is refused, a series of `requested` that is never rendered.
    private func histogram(
        _ name: String,
        _ requested: Definition,
        _ labels: [String: String],
        bounds: (Definition) -> [HistogramBound]
    ) -> HistogramSeries {
        let sorted = Self.sortedLabels(labels)
        guard let definition = self.admit(name, requested) else {
            return HistogramSeries(name: name, labels: sorted, bounds: bounds(requested))
        }
        let family = self.histogramFamilies.withLock { families in
            if let existing = families[name] { return existing }
            let created = HistogramFamily(name: name, help: definition.help, bounds: bounds(definition))
            families[name] = created
            return created
        }
        return family.series(labels: sorted)
    }

    /// Names whose later definition contradicted the first one (see the type's documentation), in order.
    public var conflicts: [String] {
        self.conflictNames.withLock { $0 }
    }

    /// Labels sorted by name: the one place that fixes label order (order is part of a series' identity).
    public static func sortedLabels(_ labels: [String: String]) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Records the first definition of `name`, or checks a later one against it.
    /// - Returns: the definition to use (the first one), or nil when `requested` contradicts it.
    private func admit(_ name: String, _ requested: Definition) -> Definition? {
        let outcome: (Definition?, Definition?) = self.definitions.withLock { definitions in
            guard let existing = definitions[name] else {
                definitions[name] = requested
                return (requested, nil)
            }
            guard existing.kind == requested.kind, existing.labelNames == requested.labelNames else {
                return (nil, existing)
            }
            return (existing, nil)
        }
        if let existing = outcome.1 {
            self.conflictNames.withLock { $0.append(name) }
            self.logger.error(
                "Conflicting metric definition ignored; the new metric will not be exported",
                metadata: [
                    "metric.name": "\(name)",
                    "metric.existing": "\(existing.kind.rawValue) \(existing.labelNames)",
                    "metric.requested": "\(requested.kind.rawValue) \(requested.labelNames)",
                ]
            )
        }
        return outcome.0
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    // MARK: swift-metrics

    /// A swift-metrics factory writing into this registry, for `MetricsSystem.bootstrap(_:)` (done by the app, once).
    ///
    /// Its labels are sorted like own metrics. swift-metrics metrics have no help text; a swift-metrics metric whose
    /// name an own definition already uses is renamed with the suffix `_swift_metrics` (and logged), and names taken
    /// by swift-metrics are refused to later own definitions, so neither side can make swift-prometheus trap.
    public func makeMetricsFactory() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: self.prometheus)
        factory.nameAndLabelSanitizer = { [self] name, labels in
            let sorted = labels.sorted { $0.0 < $1.0 }
            let renamed: String? = self.definitions.withLock { definitions in
                switch definitions[name]?.kind {
                case .swiftMetrics: return nil
                case nil:
                    definitions[name] = Definition(kind: .swiftMetrics, help: "", labelNames: [])
                    return nil
                case .some:
                    return name + "_swift_metrics"
                }
            }
            guard let renamed else { return (name, sorted) }
            self.logger.error(
                "swift-metrics metric renamed: its name belongs to an own metric",
                metadata: ["metric.name": "\(name)", "metric.renamed": "\(renamed)"]
            )
            return (renamed, sorted)
        }
        return factory
    }

    // MARK: Scraping

    /// Adds a closure run before every ``render()`` to refresh gauges (process metrics, pool statistics, snapshots).
    ///
    /// Hooks run on the scraping thread (a libmicrohttpd thread when served over HTTP), one scrape at a time, in the
    /// order added. They must be fast and must never block (no database calls: read a snapshot instead).
    public func addPreScrapeHook(_ hook: @escaping @Sendable () -> Void) {
        self.hooks.withLock { $0.append(hook) }
    }

    /// Runs the pre-scrape hooks, then renders all metrics in Prometheus text format 0.0.4 (``contentType``).
    ///
    /// Concurrent scrapes share renders: a caller gets the output of a render that *started after it called*
    /// (never an older one), and callers arriving while a render runs wait for the next one together instead of
    /// each rendering in turn. The order of families and series in the output is unspecified.
    public func render() -> [UInt8] {
        self.renderExposition(compressor: nil).bytes
    }

    /// ``render()``, and with `compressor` also the rendered bytes compressed by it (``RenderedExposition/compressed``).
    ///
    /// Scrapes sharing a render share its compression too: it runs once per render, as part of it, so one
    /// compression serves every concurrent scrape that asked for it. Pass the same compressor on every call (the
    /// gzip encoder of the HTTP endpoints); a scrape without one may still receive a compressed form it ignores.
    public func renderExposition(compressor: (@Sendable ([UInt8]) -> [UInt8]?)?) -> RenderedExposition {
        self.scrapes.fresh(compressor: compressor) { sizeHint in
            for hook in self.hooks.withLock({ $0 }) {
                hook()
            }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(sizeHint + sizeHint / 8)
            self.prometheus.emit(into: &buffer)
            for family in self.histogramFamilies.withLock({ Array($0.values) }) {
                family.emit(into: &buffer)
            }
            return buffer
        }
    }

    /// ``render()`` as a string.
    public func renderString() -> String {
        String(decoding: self.render(), as: UTF8.self)
    }
}
