/// Error text as the queue stores it in `last_error`, whatever a handler or a remote API produced.
///
/// - At most ``maxBytes`` bytes of UTF-8 (cut at a character boundary, with a note of the original size), so one
///   10 MB message cannot bloat a row, a completion batch or a log line.
/// - NUL and other control characters except tab, line feed and carriage return become U+FFFD: PostgreSQL text
///   cannot hold NUL at all (a bind with one fails, and with it every completion of its batch).
/// - Invalid UTF-8 never reaches here as such: Swift strings are valid Unicode, and every decoding into one
///   (`String(decoding:as:)`, `String(cString:)`) already replaced bad sequences with U+FFFD.
enum JobErrorText {
    /// The most UTF-8 bytes kept of a message (before the truncation note).
    static let maxBytes = 8192

    /// The storable form of `text`.
    static func sanitize(_ text: String) -> String {
        let utf8 = text.utf8
        let total = utf8.count
        var end = utf8.index(utf8.startIndex, offsetBy: min(maxBytes, total))
        while end != utf8.endIndex, UTF8.isContinuation(utf8[end]) { end = utf8.index(before: end) }
        let kept = text[..<end]
        var result: String
        if kept.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            var scalars = String.UnicodeScalarView()
            for scalar in kept.unicodeScalars {
                let allowed =
                    scalar.value >= 0x20 && scalar.value != 0x7f || scalar == "\t" || scalar == "\n"
                    || scalar == "\r"
                scalars.append(allowed ? scalar : "\u{FFFD}")
            }
            result = String(scalars)
        } else {
            result = String(kept)
        }
        if end != utf8.endIndex { result += "… (cut to \(kept.utf8.count) of \(total) bytes)" }
        return result
    }
}
