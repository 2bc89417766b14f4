import Domain
import Foundation
public import Persistence
import Repositories

/// `slot-worker templates check`: every template with an unknown placeholder, and every active city with no
/// usable template for a configured reminder offset (nor the generic `reminder`) or, when lapsed-reservation
/// notices are on, for `reservation.lapsed`.
public enum TemplateCheck {
    /// One broken template or missing text.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var key: String
        /// nil for the default.
        public var city: String?
        public var locale: String?
        public var message: String

        public var description: String {
            "\(key) [\(city.map { "city \($0)" } ?? "default")\(locale.map { ", locale \($0)" } ?? "")]: \(message)"
        }
    }

    /// The problems, sorted by key, city and locale; empty when every template is usable.
    public static func run(database: Database, settings: ReminderSettings) async throws -> [Problem] {
        try await database.withUnitOfWork { uow in
            var problems: [Problem] = []
            let cities = try await uow.cities.getActive().get()
            var cityNames: [Int64: String] = [:]
            for city in cities { cityNames[city.id ?? 0] = city.name }
            let templates = try await uow.templates.getAll(limit: 1_000_000).get()
            for template in templates {
                let unknown = MessageTemplateRenderer.unknownPlaceholders(in: template.body)
                guard !unknown.isEmpty else { continue }
                problems.append(
                    Problem(
                        key: template.key,
                        city: template.cityID.map { cityNames[$0] ?? "id \($0)" },
                        locale: template.locale,
                        message: "unknown placeholder " + unknown.map { "{\($0)}" }.joined(separator: ", ")
                            + " (known: "
                            + MessageTemplateRenderer.placeholders.map { "{\($0)}" }.joined(separator: ", ") + ")"
                    )
                )
            }
            var required = settings.offsets.map { [$0.templateKey, ReminderOffset.genericTemplateKey] }
            if settings.notifyLapsedReservations { required.append([SlotTasks.lapsedTemplateKey]) }
            for city in cities {
                for keys in required {
                    var found = false
                    for key in keys where !found {
                        switch await uow.templates.find(key: key, cityID: city.id) {
                        case .success: found = true
                        case .failure(.notFound): continue
                        case .failure(let error): throw error
                        }
                    }
                    if !found {
                        problems.append(
                            Problem(
                                key: keys[0], city: city.name, locale: nil,
                                message: "missing: no template " + keys.joined(separator: " or ")
                                    + " for this city nor a default"
                            )
                        )
                    }
                }
            }
            return problems.sorted {
                ($0.key, $0.city ?? "", $0.locale ?? "") < ($1.key, $1.city ?? "", $1.locale ?? "")
            }
        }
    }
}
