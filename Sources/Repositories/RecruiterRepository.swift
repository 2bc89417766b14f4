public import Domain
import Foundation
public import Persistence
public import PostgresClient

/// How ``Recruiter`` maps to `recruiters`.
public enum RecruiterTable: TableMapping {
    public typealias Model = Recruiter
    public typealias ID = Int64

    public static let repositoryName = "recruiters"
    public static let entityName = "Recruiter"
    public static let table = "recruiters"
    public static let writableColumns = ["name", "telegram_chat_id", "active"]
    /// `created_at` is set by the database and never written.
    public static let readableColumns = ["id", "name", "telegram_chat_id", "active", "created_at"]

    public static func id(of model: Recruiter) -> Int64? { model.id }

    public static func binds(_ model: Recruiter) -> [any PostgresEncodable] {
        [model.name, model.telegramChatID, model.active]
    }

    public static func decode(_ row: PostgresRow) throws -> Recruiter {
        try decode(row, prefix: "")
    }

    /// Decodes columns named `prefix` + column (see ``TableMapping/selectList(alias:prefix:)``).
    static func decode(_ row: PostgresRow, prefix: String) throws -> Recruiter {
        Recruiter(
            id: try row.decode(prefix + "id", as: Int64.self),
            name: try row.decode(prefix + "name", as: String.self),
            telegramChatID: try row.decode(prefix + "telegram_chat_id", as: Int64?.self),
            active: try row.decode(prefix + "active", as: Bool.self),
            createdAt: try row.decode(prefix + "created_at", as: Date?.self)
        )
    }
}

/// Recruiters: the generic CRUD plus the queries below.
public typealias RecruiterRepository = Repository<RecruiterTable>

extension Repository where Mapping == RecruiterTable {
    /// Active recruiters ordered by name (then id, so equal names keep a stable order).
    public func getActive() async -> Result<[Recruiter], RepositoryError> {
        await fetch(
            "get_active",
            "SELECT \(RecruiterTable.selectList) FROM recruiters WHERE active ORDER BY name, id"
        )
    }

    /// Active recruiters who work in the city, ordered by name; empty when none (or no such city).
    public func getActive(inCity cityID: Int64) async -> Result<[Recruiter], RepositoryError> {
        await fetch(
            "get_active_in_city",
            """
            SELECT \(RecruiterTable.selectList(alias: "r", prefix: "")) FROM recruiters r
            JOIN recruiter_cities rc ON rc.recruiter_id = r.id
            WHERE rc.city_id = $1 AND r.active ORDER BY r.name, r.id
            """,
            [cityID]
        )
    }

    /// Records that the recruiter works in the city. Returns false when that was already recorded.
    ///
    /// Fails with `.conflict` (a foreign key) when the recruiter or the city doesn't exist.
    public func assignCity(recruiterID: Int64, cityID: Int64) async -> Result<Bool, RepositoryError> {
        await run("assign_city") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO recruiter_cities (recruiter_id, city_id) VALUES ($1, $2)
                ON CONFLICT (recruiter_id, city_id) DO NOTHING RETURNING recruiter_id
                """,
                [recruiterID, cityID],
                prepared: true,
                operation: "assign_city"
            )
            return rows.count == 1
        }
    }
}

extension UnitOfWork {
    /// Recruiters in this Unit of Work's transaction.
    public var recruiters: RecruiterRepository { repository(RecruiterTable.self) }
}
