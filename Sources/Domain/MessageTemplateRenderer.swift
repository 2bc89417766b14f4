public import Foundation

/// Renders message templates: `{name}` placeholders (letters, digits, `_`) are replaced by values; any other
/// brace is literal text. An unknown name is an error, never sent to a candidate verbatim.
///
/// Placeholders: `{candidate_name}`, `{date}` (`yyyy-MM-dd`), `{weekday}` (in the template's locale, else
/// English), `{time}` (24-hour `HH:mm`) — all three in the city's IANA time zone —, `{city}`, `{recruiter}`,
/// `{address}` (the slot's, else the city's), `{link}`, `{duration}` (minutes). A value the database does not have
/// (no user row for the candidate, no address, no link) renders as empty text.
public enum MessageTemplateRenderer {
    /// Every placeholder name a template may use.
    public static let placeholders: [String] = [
        "candidate_name", "date", "weekday", "time", "city", "recruiter", "address", "link", "duration",
    ]

    /// What a message is about.
    public struct Values: Sendable, Equatable {
        public var candidateName: String?
        public var city: String
        /// IANA identifier (`Europe/Berlin`).
        public var timeZone: String
        public var recruiter: String
        public var address: String?
        public var link: String?
        public var durationMinutes: Int
        public var startsAt: Date

        public init(
            candidateName: String?, city: String, timeZone: String, recruiter: String, address: String?,
            link: String?, durationMinutes: Int, startsAt: Date
        ) {
            self.candidateName = candidateName
            self.city = city
            self.timeZone = timeZone
            self.recruiter = recruiter
            self.address = address
            self.link = link
            self.durationMinutes = durationMinutes
            self.startsAt = startsAt
        }
    }

    /// A template that cannot be rendered.
    public struct UnknownPlaceholder: Error, Sendable, Equatable, CustomStringConvertible {
        public var placeholder: String
        public var description: String { "unknown placeholder {\(placeholder)}" }
    }

    /// Every `{name}` in `body`, in order of appearance (repeats included).
    public static func placeholderNames(in body: String) -> [String] {
        var names: [String] = []
        var current: String?
        for character in body {
            if character == "{" {
                current = ""
            } else if character == "}", let name = current {
                if !name.isEmpty { names.append(name) }
                current = nil
            } else if current != nil {
                if character.isASCII && (character.isLetter || character.isNumber || character == "_") {
                    current!.append(character)
                } else {
                    current = nil
                }
            }
        }
        return names
    }

    /// The names in `body` that are not ``placeholders``, without repeats, in order.
    public static func unknownPlaceholders(in body: String) -> [String] {
        var seen: Set<String> = []
        return placeholderNames(in: body).filter { !placeholders.contains($0) && seen.insert($0).inserted }
    }

    /// The text for `values`; throws ``UnknownPlaceholder`` for the first unknown name.
    ///
    /// - Parameter locale: the template's locale (`ru`, `en-US`) for `{weekday}`; nil is English.
    public static func render(_ body: String, values: Values, locale: String?) throws(UnknownPlaceholder) -> String {
        if let unknown = unknownPlaceholders(in: body).first { throw UnknownPlaceholder(placeholder: unknown) }
        let zone = TimeZone(identifier: values.timeZone) ?? TimeZone(identifier: "UTC")!
        func format(_ pattern: String, locale identifier: String = "en_US_POSIX") -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: identifier)
            formatter.timeZone = zone
            formatter.dateFormat = pattern
            return formatter.string(from: values.startsAt)
        }
        let replacements: [String: String] = [
            "candidate_name": values.candidateName ?? "",
            "date": format("yyyy-MM-dd"),
            "weekday": format("EEEE", locale: locale.map { $0.replacingOccurrences(of: "-", with: "_") } ?? "en"),
            "time": format("HH:mm"),
            "city": values.city,
            "recruiter": values.recruiter,
            "address": values.address ?? "",
            "link": values.link ?? "",
            "duration": String(values.durationMinutes),
        ]
        var output = ""
        var pending: String?  // text since an opening brace that may still become a placeholder
        for character in body {
            if character == "{" {
                if let open = pending { output += open }
                pending = "{"
            } else if let open = pending {
                if character == "}" {
                    let name = String(open.dropFirst())
                    output += replacements[name] ?? (open + "}")
                    pending = nil
                } else if character.isASCII && (character.isLetter || character.isNumber || character == "_") {
                    pending = open + String(character)
                } else {
                    output += open + String(character)
                    pending = nil
                }
            } else {
                output.append(character)
            }
        }
        if let open = pending { output += open }
        return output
    }
}
