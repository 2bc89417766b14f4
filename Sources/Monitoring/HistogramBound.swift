/// A histogram bucket's upper bound: the value observations are compared with, and its exposition text.
struct HistogramBound: Sendable, Equatable {
    var value: Double
    var text: String

    /// A plain value's bound, written as Swift prints the `Double` (`1.0`, `0.25`).
    init(_ value: Double) {
        self.value = value
        self.text = value.description
    }

    /// A duration's bound in seconds, written exactly in decimal (`0.0001`, `2.5`, `5.0`).
    init(_ duration: Duration) {
        // `Duration.inSeconds` is also what `HistogramSeries.record(_:)` converts with, so a value equal to a bound
        // lands in that bound's bucket.
        self.value = duration.inSeconds
        let (seconds, attoseconds) = duration.components
        let digits = String(attoseconds)
        var fraction = String(repeating: "0", count: max(0, 18 - digits.count)) + digits
        while fraction.count > 1, fraction.last == "0" { fraction.removeLast() }
        self.text = "\(seconds).\(fraction)"
    }
}
