/// How long before a slot's start a reminder falls due (`reminders.offsets`: `24h,2h`).
///
/// Its ``label`` names it in metrics and logs and picks its template: `reminder.<label>` (e.g. `reminder.24h`),
/// else the generic `reminder`.
public struct ReminderOffset: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds, at least 1.
    public let seconds: Int

    /// - Precondition: `seconds >= 1`.
    public init(seconds: Int) {
        precondition(seconds >= 1, "a reminder offset is at least one second")
        self.seconds = seconds
    }

    /// The canonical text: the largest of `h`, `m`, `s` that divides it (`86400` → `24h`).
    public var label: String { DurationText.format(seconds: seconds) }
    public var description: String { label }
    /// The template key tried first for this offset.
    public var templateKey: String { "reminder.\(label)" }
    /// The template key used when ``templateKey`` has no row.
    public static let genericTemplateKey = "reminder"

    public static func < (lhs: ReminderOffset, rhs: ReminderOffset) -> Bool { lhs.seconds < rhs.seconds }

    /// Why an offsets list is unusable.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Parses a comma-separated list (`24h,2h`): each a whole number of seconds ≥ 1s; no duplicates; at least
    /// one. Returned longest first.
    public static func parseList(_ text: String) throws(Invalid) -> [ReminderOffset] {
        var offsets: [ReminderOffset] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part.description.trimmingWhitespace)
            let milliseconds: Int64
            do { milliseconds = try DurationText.milliseconds(item) } catch { throw Invalid(reason: error.description) }
            guard milliseconds >= 1000, milliseconds % 1000 == 0, milliseconds / 1000 <= Int64(Int32.max) else {
                throw Invalid(reason: "offset \"\(item)\" must be a whole number of seconds, at least 1s")
            }
            let offset = ReminderOffset(seconds: Int(milliseconds / 1000))
            guard !offsets.contains(offset) else { throw Invalid(reason: "offset \"\(item)\" is listed twice") }
            offsets.append(offset)
        }
        guard !offsets.isEmpty else { throw Invalid(reason: "at least one offset is required") }
        return offsets.sorted(by: >)
    }
}
