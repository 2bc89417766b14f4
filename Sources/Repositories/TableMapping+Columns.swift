import Persistence
import PostgresClient

extension TableMapping {
    /// `alias.col AS prefixcol, …` over ``TableMapping/readableColumns``, for joins that read several entities
    /// from one row; decode with the same prefix. An empty prefix keeps the bare column names.
    static func selectList(alias: String, prefix: String) -> String {
        readableColumns.map { prefix.isEmpty ? "\(alias).\($0)" : "\(alias).\($0) AS \(prefix)\($0)" }
            .joined(separator: ", ")
    }
}

extension PostgresRow {
    /// Decodes a text column into a string-backed enum; an unknown value is a `.decoding` error naming the column.
    func decode<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let text = try decode(column, as: String.self)
        guard let value = T(rawValue: text) else {
            throw PostgresError(
                .decoding,
                message: "column \"\(column)\": \"\(text.prefix(40))\" is not a \(T.self)",
                operation: "decode"
            )
        }
        return value
    }
}
