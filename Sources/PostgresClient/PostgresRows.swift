import CLibPQ
import Foundation

/// The result of one statement: its rows, read from libpq's result as they are decoded.
///
/// The rows own libpq's result (freed when the last copy of them goes away), so they stay usable after the
/// connection went back to the pool; a cell becomes a Swift value only when it is decoded.
public struct PostgresRows: Sendable, RandomAccessCollection {
    private let result: PostgresResultHandle
    /// Rows returned (for SELECT / RETURNING) — equal to `count`.
    public let rowCount: Int
    /// Rows affected, as reported by the command tag (INSERT/UPDATE/DELETE), 0 otherwise.
    public let affectedRows: Int

    /// Takes ownership of `result`, a successful libpq result.
    init(taking result: OpaquePointer) {
        self.result = PostgresResultHandle(result)
        rowCount = Int(PQntuples(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Column names in result order.
    public var columns: [String] { (0..<columnCount).map(columnName) }
    /// Column type OIDs in result order.
    public var columnTypes: [UInt32] { (0..<columnCount).map(columnType) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    var columnCount: Int { result.columnCount }

    func columnName(_ position: Int) -> String { String(cString: PQfname(result.pointer, Int32(position))) }

    func columnType(_ position: Int) -> UInt32 { PQftype(result.pointer, Int32(position)) }

    /// The position of the column named exactly `name` (no case folding, unlike `PQfnumber`).
    func columnIndex(_ name: String) -> Int? {
        name.withCString { name in
            (0..<columnCount).first { strcmp(PQfname(result.pointer, Int32($0)), name) == 0 }
        }
    }

    /// The cell's text (the text format), nil for NULL. Invalid UTF-8 is repaired as `String(cString:)` does.
    func text(row: Int, column: Int) -> String? {
        let (row, column) = (Int32(row), Int32(column))
        if PQgetisnull(result.pointer, row, column) == 1 { return nil }
        let length = Int(PQgetlength(result.pointer, row, column))
        let bytes = UnsafeRawPointer(PQgetvalue(result.pointer, row, column)!).assumingMemoryBound(to: UInt8.self)
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
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
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(.decoding, message: "no column at position \(position)", operation: "decode")
        }
        guard let text = rows.text(row: index, column: position) else {
            if let optional = T.self as? any PostgresOptionalDecodable.Type {
                return optional.decodeNull() as! T
            }
            throw PostgresError(
                .decoding,
                message: "column \"\(rows.columnName(position))\" is NULL but \(T.self) is not optional",
                operation: "decode"
            )
        }
        do {
            return try T(postgresText: text, typeOID: rows.columnType(position))
        } catch {
            throw PostgresError(
                .decoding,
                message: "column \"\(rows.columnName(position))\": \(error.reason)",
                operation: "decode"
            )
        }
    }

    /// True when the named column is SQL NULL.
    public func isNull(_ column: String) -> Bool {
        guard let position = rows.columnIndex(column) else { return true }
        return rows.text(row: index, column: position) == nil
    }
}
