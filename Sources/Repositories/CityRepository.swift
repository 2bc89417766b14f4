public import Domain
public import Persistence
public import PostgresClient

/// How ``City`` maps to `cities`.
public enum CityTable: TableMapping {
    public typealias Model = City
    public typealias ID = Int64

    public static let repositoryName = "cities"
    public static let entityName = "City"
    public static let table = "cities"
    public static let writableColumns = ["name", "time_zone", "active"]

    public static func id(of model: City) -> Int64? { model.id }

    public static func binds(_ model: City) -> [any PostgresEncodable] {
        [model.name, model.timeZone, model.active]
    }

    public static func decode(_ row: PostgresRow) throws -> City {
        try decode(row, prefix: "")
    }

    /// Decodes columns named `prefix` + column (see ``TableMapping/selectList(alias:prefix:)``).
    static func decode(_ row: PostgresRow, prefix: String) throws -> City {
        City(
            id: try row.decode(prefix + "id", as: Int64.self),
            name: try row.decode(prefix + "name", as: String.self),
            timeZone: try row.decode(prefix + "time_zone", as: String.self),
            active: try row.decode(prefix + "active", as: Bool.self)
        )
    }
}

/// Cities: the generic CRUD plus the queries below. `add` and `update` fail with
/// `.validation(field: "cities_time_zone_valid")` for a time zone PostgreSQL doesn't know.
public typealias CityRepository = Repository<CityTable>

extension Repository where Mapping == CityTable {
    /// Active cities ordered by name.
    public func getActive() async -> Result<[City], RepositoryError> {
        await fetch("get_active", "SELECT \(CityTable.selectList) FROM cities WHERE active ORDER BY name, id")
    }

    /// The cities a recruiter works in (active or not), ordered by name; empty when none.
    public func getForRecruiter(_ recruiterID: Int64) async -> Result<[City], RepositoryError> {
        await fetch(
            "get_for_recruiter",
            """
            SELECT \(CityTable.selectList(alias: "c", prefix: "")) FROM cities c
            JOIN recruiter_cities rc ON rc.city_id = c.id
            WHERE rc.recruiter_id = $1 ORDER BY c.name, c.id
            """,
            [recruiterID]
        )
    }
}

extension UnitOfWork {
    /// Cities in this Unit of Work's transaction.
    public var cities: CityRepository { repository(CityTable.self) }
}
