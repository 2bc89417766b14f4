import Synchronization

/// One histogram series (one label set of a family), rendered by ``MetricsRegistry`` itself.
///
/// Each line's text up to its value (`name_bucket{labels,le="0.001"} `, `name_sum{labels} `, …) is rendered once,
/// when the series is created, so a scrape only writes numbers, and a series that recorded nothing since the last
/// scrape copies that scrape's bytes. (swift-prometheus's histogram formats every bucket
/// bound anew on every scrape, which was most of the time of a 2,000-series render.)
///
/// Contracts:
/// - ``record(_:)-(Double)`` and ``record(_:)-(Duration)`` take one short lock: they count the value in the first
///   bucket whose upper bound is ≥ it (or above every bound) and add it to the sum. Buckets are made cumulative when
///   rendered, so the `+Inf` bucket always equals `_count`.
/// - Durations are recorded and rendered in seconds.
public final class HistogramSeries: Sendable {
    private struct State {
        /// Per bucket, not cumulative; the last entry counts values above every bound.
        var counts: [Int]
        var sum: Double = 0
        /// The series' lines as last rendered (their buffer is reused), current while nothing was recorded since:
        /// frequent scrapes of a mostly idle series copy bytes instead of formatting them again. Recording only
        /// clears the flag, so it never frees memory under the lock.
        var rendered: [UInt8] = []
        var renderedIsCurrent = false
    }

    private let bounds: [Double]
    /// One per bound, then the `+Inf` bucket's.
    private let bucketPrefixes: [[UInt8]]
    private let sumPrefix: [UInt8]
    private let countPrefix: [UInt8]
    private let state: Mutex<State>

    /// - Parameters:
    ///   - labels: sorted by name, already validated.
    ///   - bounds: ascending upper bounds with their exposition text.
    init(name: String, labels: [(String, String)], bounds: [HistogramBound]) {
        self.bounds = bounds.map(\.value)
        var labelText: [UInt8] = []
        for (name, value) in labels {
            labelText.append(contentsOf: name.utf8)
            labelText.append(contentsOf: "=\"".utf8)
            labelText.appendEscapedLabelValue(value)
            labelText.append(contentsOf: "\",".utf8)
        }
        func bucket(_ bound: String) -> [UInt8] {
            Array("\(name)_bucket{".utf8) + labelText + Array("le=\"\(bound)\"} ".utf8)
        }
        self.bucketPrefixes = bounds.map { bucket($0.text) } + [bucket("+Inf")]
        // Without "le", the label list loses its trailing comma (and its braces when empty).
        let plain = labelText.isEmpty ? [] : Array("{".utf8) + labelText.dropLast() + Array("}".utf8)
        self.sumPrefix = Array("\(name)_sum".utf8) + plain + [UInt8(ascii: " ")]
        self.countPrefix = Array("\(name)_count".utf8) + plain + [UInt8(ascii: " ")]
        self.state = Mutex(State(counts: Array(repeating: 0, count: bounds.count + 1)))
    }

    /// Records one observation.
    public func record(_ value: Double) {
        let index = bounds.firstIndex { value <= $0 } ?? bounds.count
        state.withLock { state in
            state.counts[index] += 1
            state.sum += value
            state.renderedIsCurrent = false
        }
    }

    /// Records one duration, in seconds.
    public func record(_ duration: Duration) {
        record(duration.inSeconds)
    }

    /// Appends the series' lines (buckets, sum, count) in text format 0.0.4. Holds the lock while writing, so the
    /// lines are one consistent snapshot; a series with no observation since its last render appends those bytes.
    func emit(into buffer: inout [UInt8]) {
        state.withLock { state in
            if !state.renderedIsCurrent {
                var lines = state.rendered
                state.rendered = []  // keeps `lines` uniquely referenced: appending to it never copies
                lines.removeAll(keepingCapacity: true)
                var cumulative = 0
                for (index, prefix) in bucketPrefixes.enumerated() {
                    cumulative += state.counts[index]
                    lines.append(contentsOf: prefix)
                    lines.appendDecimal(cumulative)
                    lines.append(UInt8(ascii: "\n"))
                }
                lines.append(contentsOf: sumPrefix)
                lines.appendSampleValue(state.sum)
                lines.append(UInt8(ascii: "\n"))
                lines.append(contentsOf: countPrefix)
                lines.appendDecimal(cumulative)
                lines.append(UInt8(ascii: "\n"))
                state.rendered = lines
                state.renderedIsCurrent = true
            }
            buffer.append(contentsOf: state.rendered)
        }
    }
}
