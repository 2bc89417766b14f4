/// `int8[]` and `text[]` binds and results, for batch statements (`unnest($1::int8[])`).
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public func postgresBind() throws -> PostgresBind {
        var text = "{"
        for (offset, element) in enumerated() {
            if offset > 0 { text += "," }
            text += try element.postgresArrayLiteral()
        }
        text += "}"
        return try .text(text, oid: Element.postgresArrayOID)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard
            typeOID == Element.postgresArrayOID
                || (Element.postgresArrayOID == PostgresType.int8Array
                    && typeOID == PostgresType.int4Array)
        else { throw .mismatch([Element].self, typeOID, text) }
        self = try parsePostgresArray(text).map { item throws(PostgresDecodingFailure) in
            guard let item else { throw PostgresDecodingFailure("NULL element in an array of non-optional values") }
            return try Element(postgresText: item, typeOID: Element.postgresElementOID)
        }
    }
}

/// An element type of a supported one-dimensional array.
public protocol PostgresArrayElement: PostgresDecodable, Sendable {
    static var postgresArrayOID: UInt32 { get }
    static var postgresElementOID: UInt32 { get }
    func postgresArrayLiteral() throws -> String
}

extension Int64: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresType.int8Array }
    public static var postgresElementOID: UInt32 { PostgresType.int8 }
    public func postgresArrayLiteral() throws -> String { String(self) }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresType.int8Array }
    public static var postgresElementOID: UInt32 { PostgresType.int8 }
    public func postgresArrayLiteral() throws -> String { String(self) }
}

extension String: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresType.textArray }
    public static var postgresElementOID: UInt32 { PostgresType.text }
    public func postgresArrayLiteral() throws -> String {
        var literal = "\""
        for scalar in unicodeScalars {
            if scalar == "\"" || scalar == "\\" { literal += "\\" }
            literal.unicodeScalars.append(scalar)
        }
        return literal + "\""
    }
}

/// Parses a one-dimensional array literal (`{1,2}`, `{"a b",NULL,c}`) into its elements' texts.
func parsePostgresArray(_ text: String) throws(PostgresDecodingFailure) -> [String?] {
    let scalars = Array(text.unicodeScalars)
    guard scalars.first == "{", scalars.last == "}" else {
        throw PostgresDecodingFailure("not a one-dimensional array literal: \(text.prefix(40))")
    }
    var items: [String?] = []
    var index = 1
    let end = scalars.count - 1
    if end == 1 { return [] }
    while index < end {
        var item = String.UnicodeScalarView()
        var quoted = false
        if scalars[index] == "\"" {
            quoted = true
            index += 1
            while index < end, scalars[index] != "\"" {
                if scalars[index] == "\\" { index += 1 }
                guard index < end else { break }
                item.append(scalars[index])
                index += 1
            }
            index += 1
        } else {
            while index < end, scalars[index] != "," {
                item.append(scalars[index])
                index += 1
            }
        }
        let value = String(item)
        items.append(!quoted && value == "NULL" ? nil : value)
        if index < end, scalars[index] == "," { index += 1 }
    }
    return items
}
