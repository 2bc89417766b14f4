/// Escaping and number formatting of the Prometheus text format 0.0.4, for the lines ``MetricsRegistry`` writes
/// itself (swift-prometheus writes its own).
extension [UInt8] {
    /// Appends a label value with backslash, double quote and line feed escaped.
    mutating func appendEscapedLabelValue(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\""): append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\n"): append(contentsOf: #"\n"#.utf8)
            default: append(byte)
            }
        }
    }

    /// Appends help text with backslash and line feed escaped.
    mutating func appendEscapedHelp(_ help: String) {
        for byte in help.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): append(contentsOf: #"\n"#.utf8)
            default: append(byte)
            }
        }
    }

    /// Appends an integer in decimal without allocating (bucket counts: most of a scrape's numbers): the digits are
    /// written into a stack buffer and appended at once.
    mutating func appendDecimal(_ value: Int) {
        // 19 digits hold Int.max's magnitude (and Int.min's), one more byte the sign.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            var remaining = value.magnitude
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
            } while remaining > 0
            if value < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends a sample value: Swift's shortest round-tripping decimal, or `NaN`, `+Inf`, `-Inf`.
    mutating func appendSampleValue(_ value: Double) {
        if value.isNaN {
            append(contentsOf: "NaN".utf8)
        } else if value.isInfinite {
            append(contentsOf: (value < 0 ? "-Inf" : "+Inf").utf8)
        } else {
            append(contentsOf: value.description.utf8)
        }
    }
}
