public import PostgresClient

/// How an entity maps to a table, declared once per entity. ``Repository`` derives all CRUD SQL from it.
///
/// Table and column names are static identifiers written in code, never input; every value travels as a bind.
public protocol TableMapping: Sendable {
    /// The entity type.
    associatedtype Model: Sendable
    /// The primary key type (a generated `bigint` in this schema).
    associatedtype ID: PostgresEncodable & PostgresDecodable & Sendable & CustomStringConvertible

    /// The repository name used in metric labels and error operations, e.g. `slots`.
    static var repositoryName: String { get }
    /// The entity name used in `.notFound` errors, e.g. `Slot`.
    static var entityName: String { get }
    /// The table, e.g. `slots`.
    static var table: String { get }
    /// The primary key column (default `id`).
    static var idColumn: String { get }
    /// The columns written by `add` and `update`, in the order of ``binds(_:)``; excludes the primary key.
    static var writableColumns: [String] { get }
    /// Columns read into a model (default: the key plus the writable columns).
    static var readableColumns: [String] { get }

    /// The entity's id; nil before it was added.
    static func id(of model: Model) -> ID?
    /// Values of ``writableColumns``, in order.
    static func binds(_ model: Model) -> [any PostgresEncodable]
    /// Builds a model from a row that has ``readableColumns``.
    static func decode(_ row: PostgresRow) throws -> Model
}

extension TableMapping {
    public static var idColumn: String { "id" }
    public static var readableColumns: [String] { [idColumn] + writableColumns }

    /// `id, col1, col2, …` for SELECT and RETURNING lists.
    public static var selectList: String { readableColumns.joined(separator: ", ") }
}
