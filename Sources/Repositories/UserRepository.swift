public import Domain
import Foundation
public import Persistence
public import PostgresClient

/// How ``User`` maps to `users`.
public enum UserTable: TableMapping {
    public typealias Model = User
    public typealias ID = Int64

    public static let repositoryName = "users"
    public static let entityName = "User"
    public static let table = "users"
    public static let writableColumns = ["telegram_id", "name", "phone", "locale"]
    /// `created_at` is set by the database and never written.
    public static let readableColumns = ["id", "telegram_id", "name", "phone", "locale", "created_at"]

    public static func id(of model: User) -> Int64? { model.id }

    public static func binds(_ model: User) -> [any PostgresEncodable] {
        [model.telegramID, model.name, model.phone, model.locale]
    }

    public static func decode(_ row: PostgresRow) throws -> User {
        User(
            id: try row.decode("id", as: Int64.self),
            telegramID: try row.decode("telegram_id", as: Int64.self),
            name: try row.decode("name", as: String.self),
            phone: try row.decode("phone", as: String?.self),
            locale: try row.decode("locale", as: String?.self),
            createdAt: try row.decode("created_at", as: Date?.self)
        )
    }
}

/// Users (candidates): the generic CRUD plus ``Repository/getByTelegramID(_:)``. A second user with the same
/// Telegram id is a `.conflict` on `users_telegram_id_key`.
public typealias UserRepository = Repository<UserTable>

extension Repository where Mapping == UserTable {
    /// The user with this Telegram id; `.notFound(entity: "User", id: "telegram_id=<id>")` when none.
    public func getByTelegramID(_ telegramID: Int64) async -> Result<User, RepositoryError> {
        await run("get_by_telegram_id") { connection in
            let rows = try await connection.query(
                "SELECT \(UserTable.selectList) FROM users WHERE telegram_id = $1",
                [telegramID],
                prepared: true,
                operation: "get_by_telegram_id"
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: UserTable.entityName, id: "telegram_id=\(telegramID)")
            }
            return try UserTable.decode(row)
        }
    }
}

extension UnitOfWork {
    /// Users in this Unit of Work's transaction.
    public var users: UserRepository { repository(UserTable.self) }
}
