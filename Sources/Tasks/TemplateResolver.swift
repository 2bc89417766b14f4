import Domain
import Persistence
import Repositories

/// Picks and renders a message template: for each key in order (e.g. `reminder.2h`, then `reminder`), the city's
/// override before the default and the candidate's locale before the locale-independent text.
struct TemplateResolver: Sendable {
    /// A missing template or an unknown placeholder, naming the keys, the city and the placeholder.
    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    /// The rendered text, or ``Failure``; database errors are thrown as they are.
    static func render(
        _ uow: UnitOfWork, keys: [String], cityID: Int64?, cityName: String, locale: String?,
        values: MessageTemplateRenderer.Values
    ) async throws -> Result<String, Failure> {
        for key in keys {
            switch await uow.templates.find(key: key, cityID: cityID, locale: locale) {
            case .success(let template):
                do {
                    return .success(try MessageTemplateRenderer.render(template.body, values: values, locale: locale))
                } catch {
                    let scope = template.cityID == nil ? "default" : "city override"
                    return .failure(
                        Failure(
                            description:
                                "template \(key) (\(scope), id \(template.id ?? 0)) for city \(cityName): "
                                + "\(error.description)"
                        )
                    )
                }
            case .failure(.notFound):
                continue
            case .failure(let error):
                throw error
            }
        }
        return .failure(
            Failure(
                description: "no template \(keys.joined(separator: " or ")) for city \(cityName)"
                    + (locale.map { " (locale \($0))" } ?? "")
            )
        )
    }
}
