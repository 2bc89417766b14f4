import Foundation

/// HTML text that is already safe to emit. Every value from the database or the request goes through
/// ``HTML/text(_:)`` (escaping `& < > " '`): job payloads and errors are hostile text.
struct HTML: Sendable, ExpressibleByStringLiteral {
    var raw: String

    init(raw: String) { self.raw = raw }
    init(stringLiteral value: String) { raw = value }

    /// Escaped text.
    static func text(_ value: String) -> HTML {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return HTML(raw: out)
    }

    static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(raw: lhs.raw + rhs.raw) }
    static func += (lhs: inout HTML, rhs: HTML) { lhs.raw += rhs.raw }

    static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(raw: parts.map(\.raw).joined(separator: separator.raw))
    }
}

/// Shorthand for escaped text.
func h(_ value: String) -> HTML { .text(value) }
func h(_ value: some BinaryInteger) -> HTML { HTML(raw: String(value)) }

/// Formatting shared by the pages: pure functions (a page formats hundreds of values; Foundation's formatter
/// classes cost more to create than the page's queries take).
enum Format {
    static let iso8601 = Date.ISO8601FormatStyle()

    /// UTC, ISO 8601 to the second (`2026-12-01T13:05:00Z`).
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return iso8601.format(date)
    }

    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: String(format: "%.1f s", seconds)
        case ..<3600: String(format: "%.1f min", seconds / 60)
        case ..<86_400: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }

    /// Thousands separated by commas (`1,000,000`), `≈` first when estimated.
    static func count(_ value: Int, estimated: Bool) -> String {
        var digits = String(value.magnitude)
        var index = digits.endIndex
        while digits.distance(from: digits.startIndex, to: index) > 3 {
            index = digits.index(index, offsetBy: -3)
            digits.insert(",", at: index)
        }
        let text = (value < 0 ? "-" : "") + digits
        return estimated ? "≈" + text : text
    }
}
