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

/// Formatting shared by the pages.
enum Format {
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: String(format: "%.1f s", seconds)
        case ..<3600: String(format: "%.1f min", seconds / 60)
        case ..<86_400: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }

    static func count(_ value: Int, estimated: Bool) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        let text = formatter.string(from: NSNumber(value: value)) ?? String(value)
        return estimated ? "≈" + text : text
    }
}
