/// Durations written as text in configuration: one or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`,
/// `d` (`24h`, `90s`, `1h30m`, `250ms`).
public enum DurationText {
    /// Why a text is not a duration.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var description: String {
            "\"\(text)\" is not a duration (write e.g. 24h, 90m, 30s, 250ms or 1h30m)"
        }
    }

    /// The duration in milliseconds; throws ``Invalid`` for empty text, a missing or unknown unit, or overflow.
    public static func milliseconds(_ text: String) throws(Invalid) -> Int64 {
        let trimmed = text.trimmingWhitespace
        var total: Int64 = 0
        var number: Int64?
        var index = trimmed.startIndex
        guard !trimmed.isEmpty else { throw Invalid(text: text) }
        while index < trimmed.endIndex {
            let character = trimmed[index]
            if let digit = character.wholeNumberValue, character.isASCII {
                let (times, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { throw Invalid(text: text) }
                number = plus
                index = trimmed.index(after: index)
                continue
            }
            guard let value = number else { throw Invalid(text: text) }
            let rest = trimmed[index...]
            let factor: Int64
            if rest.hasPrefix("ms") {
                factor = 1
                index = trimmed.index(index, offsetBy: 2)
            } else {
                switch character {
                case "s": factor = 1000
                case "m": factor = 60_000
                case "h": factor = 3_600_000
                case "d": factor = 86_400_000
                default: throw Invalid(text: text)
                }
                index = trimmed.index(after: index)
            }
            let (part, overflow1) = value.multipliedReportingOverflow(by: factor)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { throw Invalid(text: text) }
            total = sum
            number = nil
        }
        guard number == nil else { throw Invalid(text: text) }  // trailing digits without a unit
        return total
    }

    /// The shortest exact text for whole seconds: `86400` → `24h`, `5400` → `90m`, `45` → `45s`.
    public static func format(seconds: Int) -> String {
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

extension String {
    var trimmingWhitespace: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return Substring(scalars[first...last])
    }
}
