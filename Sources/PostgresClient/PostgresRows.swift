/// The result of one statement: column names and types, and every cell as text (nil for NULL).
///
/// Results are fully read from libpq before the call returns, so rows can be used after the connection
/// went back to the pool.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names in result order.
    public let columns: [String]
    /// Column type OIDs in result order.
    public let columnTypes: [UInt32]
    /// Rows × columns, row-major.
    let cells: [String?]
    /// Rows returned (for SELECT / RETURNING) — equal to `count`.
    public let rowCount: Int
    /// Rows affected, as reported by the command tag (INSERT/UPDATE/DELETE), 0 otherwise.
    public let affectedRows: Int

    init(columns: [String], columnTypes: [UInt32], cells: [String?], rowCount: Int, affectedRows: Int) {
        self.columns = columns
        self.columnTypes = columnTypes
        self.cells = cells
        self.rowCount = rowCount
        self.affectedRows = affectedRows
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }
}

/// One row of a ``PostgresRows``; decode cells by column name or position.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes the named column. NULL decodes only into an `Optional`.
    ///
    /// - Throws: ``PostgresError`` of kind `.decoding` naming the column: unknown column, NULL into a
    ///   non-optional, or a value of another type.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let position = rows.columnIndex(column) else {
            throw PostgresError(
                .decoding,
                message: "no column \"\(column)\" in result (columns: \(rows.columns.joined(separator: ", ")))",
                operation: "decode"
            )
        }
        return try decode(at: position, as: type)
    }

    /// Decodes the column at `position` (0-based).
    public func decode<T: PostgresDecodable>(at position: Int, as type: T.Type = T.self) throws -> T {
        guard position >= 0, position < rows.columns.count else {
            throw PostgresError(.decoding, message: "no column at position \(position)", operation: "decode")
        }
        let name = rows.columns[position]
        guard let text = rows.cells[index * rows.columns.count + position] else {
            if let optional = T.self as? any PostgresOptionalDecodable.Type {
                return optional.decodeNull() as! T
            }
            throw PostgresError(
                .decoding,
                message: "column \"\(name)\" is NULL but \(T.self) is not optional",
                operation: "decode"
            )
        }
        do {
            return try T(postgresText: text, typeOID: rows.columnTypes[position])
        } catch {
            throw PostgresError(.decoding, message: "column \"\(name)\": \(error.reason)", operation: "decode")
        }
    }

    /// True when the named column is SQL NULL.
    public func isNull(_ column: String) -> Bool {
        guard let position = rows.columnIndex(column) else { return true }
        return rows.cells[index * rows.columns.count + position] == nil
    }
}
