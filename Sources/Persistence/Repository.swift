public import PostgresClient

/// The generic repository: `get`, `getAll`, `add`, `update`, `delete`, `exists` and `count` for any entity
/// that declares its ``TableMapping``. Concrete repositories are this type with a mapping
/// (`typealias SlotRepository = Repository<SlotTable>`) plus extension methods for their own queries, which
/// go through ``run(_:_:)`` or ``fetch(_:_:_:)`` so they are instrumented like the CRUD methods.
public struct Repository<Mapping: TableMapping>: Sendable {
    public let context: RepositoryContext

    public init(context: RepositoryContext) {
        self.context = context
    }

    /// The operation names of the generic methods (label values known in advance).
    public static var crudOperations: [String] { ["get", "get_all", "add", "update", "delete", "exists", "count"] }

    /// Runs an instrumented operation of this repository.
    public func run<T>(
        _ operation: String,
        _ body: (PostgresConnection) async throws -> T
    ) async -> Result<T, RepositoryError> {
        await context.run(repository: Mapping.repositoryName, operation: operation, body)
    }

    /// Runs a SELECT that returns ``TableMapping/readableColumns`` and decodes every row.
    public func fetch(
        _ operation: String,
        _ sql: String,
        _ binds: [any PostgresEncodable] = []
    ) async -> Result<[Mapping.Model], RepositoryError> {
        await run(operation) { connection in
            try await connection.query(sql, binds, prepared: true, operation: operation).map(Mapping.decode)
        }
    }

    /// The entity with this id, or `.notFound`.
    public func get(_ id: Mapping.ID) async -> Result<Mapping.Model, RepositoryError> {
        await run("get") { connection in
            let rows = try await connection.query(
                "SELECT \(Mapping.selectList) FROM \(Mapping.table) WHERE \(Mapping.idColumn) = $1",
                [id],
                prepared: true
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: Mapping.entityName, id: id.description)
            }
            return try Mapping.decode(row)
        }
    }

    /// A page of entities ordered by id.
    public func getAll(limit: Int = 100, offset: Int = 0) async -> Result<[Mapping.Model], RepositoryError> {
        guard limit >= 0, offset >= 0 else {
            return .failure(.validation(field: "limit", message: "limit and offset must not be negative"))
        }
        return await fetch(
            "get_all",
            "SELECT \(Mapping.selectList) FROM \(Mapping.table) ORDER BY \(Mapping.idColumn) LIMIT $1 OFFSET $2",
            [limit, offset]
        )
    }

    /// Inserts the entity and returns it as stored, with its generated id and defaults (the guide's `flush`).
    public func add(_ model: Mapping.Model) async -> Result<Mapping.Model, RepositoryError> {
        await run("add") { connection in
            let columns = Mapping.writableColumns
            let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
            let rows = try await connection.query(
                "INSERT INTO \(Mapping.table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) "
                    + "RETURNING \(Mapping.selectList)",
                Mapping.binds(model),
                prepared: true
            )
            return try Mapping.decode(rows[0])
        }
    }

    /// Writes every writable column of an existing entity; `.notFound` when no row has its id.
    public func update(_ model: Mapping.Model) async -> Result<Mapping.Model, RepositoryError> {
        await run("update") { connection in
            guard let id = Mapping.id(of: model) else {
                throw RepositoryError.validation(field: Mapping.idColumn, message: "cannot update an entity without id")
            }
            let columns = Mapping.writableColumns
            let assignments = columns.enumerated().map { "\($1) = $\($0 + 2)" }.joined(separator: ", ")
            let rows = try await connection.query(
                "UPDATE \(Mapping.table) SET \(assignments) WHERE \(Mapping.idColumn) = $1 "
                    + "RETURNING \(Mapping.selectList)",
                [id] + Mapping.binds(model),
                prepared: true
            )
            guard let row = rows.first else {
                throw RepositoryError.notFound(entity: Mapping.entityName, id: id.description)
            }
            return try Mapping.decode(row)
        }
    }

    /// Deletes the entity; `.notFound` when no row has this id.
    public func delete(_ id: Mapping.ID) async -> Result<Void, RepositoryError> {
        await run("delete") { connection in
            let rows = try await connection.query(
                "DELETE FROM \(Mapping.table) WHERE \(Mapping.idColumn) = $1",
                [id],
                prepared: true
            )
            if rows.affectedRows == 0 {
                throw RepositoryError.notFound(entity: Mapping.entityName, id: id.description)
            }
        }
    }

    /// True when a row has this id.
    public func exists(_ id: Mapping.ID) async -> Result<Bool, RepositoryError> {
        await run("exists") { connection in
            let rows = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM \(Mapping.table) WHERE \(Mapping.idColumn) = $1) AS found",
                [id],
                prepared: true
            )
            return try rows[0].decode("found", as: Bool.self)
        }
    }

    /// The number of rows.
    public func count() async -> Result<Int, RepositoryError> {
        await run("count") { connection in
            let rows = try await connection.query("SELECT count(*) AS n FROM \(Mapping.table)", prepared: true)
            return try rows[0].decode("n", as: Int.self)
        }
    }
}

extension UnitOfWork {
    /// A repository of any mapped entity, sharing this Unit of Work's transaction.
    public func repository<Mapping: TableMapping>(_ mapping: Mapping.Type) -> Repository<Mapping> {
        Repository(context: context)
    }
}
