public import Domain
import Foundation

/// Renders reminder templates. Placeholders: `{city}`, `{recruiter}`, `{date}` and `{time}` (in the city's time
/// zone), `{duration}` (minutes). Unknown placeholders stay as written.
public enum ReminderText {
    /// Used when neither the city nor the default has a `reminder.<kind>` template.
    public static let fallbackTemplate =
        "Reminder: your interview in {city} with {recruiter} is on {date} at {time} ({duration} min)."

    public static func render(_ template: String, for loaded: SlotWithRelations) -> String {
        let zone = TimeZone(identifier: loaded.city.timeZone) ?? TimeZone(identifier: "UTC")!
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.timeZone = zone
        date.dateFormat = "yyyy-MM-dd"
        let time = DateFormatter()
        time.locale = Locale(identifier: "en_US_POSIX")
        time.timeZone = zone
        time.dateFormat = "HH:mm"
        let values = [
            "{city}": loaded.city.name,
            "{recruiter}": loaded.recruiter.name,
            "{date}": date.string(from: loaded.slot.startsAt),
            "{time}": time.string(from: loaded.slot.startsAt),
            "{duration}": String(loaded.slot.durationMinutes),
        ]
        var text = template
        for (placeholder, value) in values {
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        return text
    }
}
