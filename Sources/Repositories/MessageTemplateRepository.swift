public import Domain
public import Persistence
public import PostgresClient

/// How ``MessageTemplate`` maps to `message_templates`.
public enum MessageTemplateTable: TableMapping {
    public typealias Model = MessageTemplate
    public typealias ID = Int64

    public static let repositoryName = "message_templates"
    public static let entityName = "MessageTemplate"
    public static let table = "message_templates"
    public static let writableColumns = ["key", "city_id", "locale", "body"]

    public static func id(of model: MessageTemplate) -> Int64? { model.id }

    public static func binds(_ model: MessageTemplate) -> [any PostgresEncodable] {
        [model.key, model.cityID, model.locale, model.body]
    }

    public static func decode(_ row: PostgresRow) throws -> MessageTemplate {
        MessageTemplate(
            id: try row.decode("id", as: Int64.self),
            key: try row.decode("key", as: String.self),
            cityID: try row.decode("city_id", as: Int64?.self),
            locale: try row.decode("locale", as: String?.self),
            body: try row.decode("body", as: String.self)
        )
    }
}

/// Message templates: the generic CRUD plus ``Repository/find(key:cityID:locale:)``. A second template for the same
/// (key, city, locale) — including a second default — is a `.conflict` on `message_templates_key_city_locale_key`.
public typealias MessageTemplateRepository = Repository<MessageTemplateTable>

extension Repository where Mapping == MessageTemplateTable {
    /// The template to use for `key` in a city, in one query: the city's override before the default
    /// (`city_id NULLS LAST`), and within each the exact locale before the locale-independent text. With a nil
    /// `cityID` only defaults match; with a nil `locale` only locale-independent texts. `.notFound` when nothing
    /// matches.
    public func find(key: String, cityID: Int64?, locale: String? = nil) async
        -> Result<MessageTemplate, RepositoryError>
    {
        await run("find") { connection in
            let rows = try await connection.query(
                """
                SELECT \(MessageTemplateTable.selectList) FROM message_templates
                WHERE key = $1 AND (city_id = $2 OR city_id IS NULL) AND (locale = $3 OR locale IS NULL)
                ORDER BY city_id NULLS LAST, locale NULLS LAST
                LIMIT 1
                """,
                [key, cityID, locale],
                prepared: true,
                operation: "find"
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: MessageTemplateTable.entityName, id: key)
            }
            return try MessageTemplateTable.decode(row)
        }
    }
}

extension UnitOfWork {
    /// Message templates in this Unit of Work's transaction.
    public var templates: MessageTemplateRepository { repository(MessageTemplateTable.self) }
}
