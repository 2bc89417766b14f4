import Synchronization

/// The series of one histogram name that ``MetricsRegistry`` renders itself: help text, buckets, and one
/// ``HistogramSeries`` per label set (asking again for a label set returns the same series).
final class HistogramFamily: Sendable {
    let name: String
    private let help: String
    private let bounds: [HistogramBound]
    /// Series in creation order, and the same series by their sorted label set.
    private let series = Mutex<(ordered: [HistogramSeries], byLabels: [[String]: HistogramSeries])>(([], [:]))

    init(name: String, help: String, bounds: [HistogramBound]) {
        self.name = name
        self.help = help
        self.bounds = bounds
    }

    /// The series for `labels` (sorted by name), created on first use.
    func series(labels: [(String, String)]) -> HistogramSeries {
        let key = labels.flatMap { [$0.0, $0.1] }
        return series.withLock { series in
            if let existing = series.byLabels[key] { return existing }
            let created = HistogramSeries(name: name, labels: labels, bounds: bounds)
            series.ordered.append(created)
            series.byLabels[key] = created
            return created
        }
    }

    /// Appends the family's `# HELP` and `# TYPE` lines and every series.
    func emit(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "# HELP \(name) ".utf8)
        buffer.appendEscapedHelp(help)
        buffer.append(contentsOf: "\n# TYPE \(name) histogram\n".utf8)
        for series in series.withLock({ $0.ordered }) {
            series.emit(into: &buffer)
        }
    }
}
