public import Foundation

/// A Swift value that can travel to PostgreSQL as a bound parameter.
public protocol PostgresEncodable: Sendable {
    /// Produces the bind. Throws ``PostgresError`` of kind `.invalidParameter` for values that cannot travel.
    func postgresBind() throws -> PostgresBind
}

/// A Swift value that can be decoded from a PostgreSQL text-format result cell.
public protocol PostgresDecodable {
    /// Decodes from the cell's text. `typeOID` is the column's type; throw `PostgresDecodingFailure` if unsuitable.
    init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure)
}

/// Why one cell could not be decoded; the row adds the column name and turns it into a ``PostgresError``.
public struct PostgresDecodingFailure: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }

    static func mismatch(_ swiftType: Any.Type, _ oid: UInt32, _ text: String) -> PostgresDecodingFailure {
        PostgresDecodingFailure("cannot decode type OID \(oid) value \"\(text.prefix(40))\" as \(swiftType)")
    }
}

/// Marks types whose SQL NULL is a value (``Optional``) rather than a decoding error.
public protocol PostgresOptionalDecodable {
    static func decodeNull() -> Self
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind {
        switch self {
        case .none: return .null
        case .some(let value): return try value.postgresBind()
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        self = .some(try Wrapped(postgresText: text, typeOID: typeOID))
    }
}

extension Optional: PostgresOptionalDecodable where Wrapped: PostgresDecodable {
    public static func decodeNull() -> Self { .none }
}

// MARK: - Integers

extension Int64: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: Array(String(self).utf8), typeOID: PostgresType.int8)
    }

    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        switch typeOID {
        case PostgresType.int2, PostgresType.int4, PostgresType.int8, PostgresType.oid, PostgresType.numeric:
            guard let value = Int64(text) else { throw .mismatch(Int64.self, typeOID, text) }
            self = value
        default:
            throw .mismatch(Int64.self, typeOID, text)
        }
    }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind { try Int64(self).postgresBind() }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        self = Int(try Int64(postgresText: text, typeOID: typeOID))
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: Array(String(self).utf8), typeOID: PostgresType.int4)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Int32(exactly: try Int64(postgresText: text, typeOID: typeOID)) else {
            throw .mismatch(Int32.self, typeOID, text)
        }
        self = value
    }
}

// MARK: - Text, bool, floating point, numeric

extension String: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind { try .text(self, oid: 0) }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        self = text
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: self ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")], typeOID: PostgresType.bool)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard typeOID == PostgresType.bool else { throw .mismatch(Bool.self, typeOID, text) }
        self = text == "t"
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = "\(self)"
        }
        return PostgresBind(bytes: Array(text.utf8), typeOID: PostgresType.float8)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        switch typeOID {
        case PostgresType.float4, PostgresType.float8, PostgresType.numeric, PostgresType.int2, PostgresType.int4,
            PostgresType.int8:
            guard let value = Double(text) else { throw .mismatch(Double.self, typeOID, text) }
            self = value
        default:
            throw .mismatch(Double.self, typeOID, text)
        }
    }
}

extension Decimal: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: Array(description.utf8), typeOID: PostgresType.numeric)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard typeOID == PostgresType.numeric || typeOID == PostgresType.int8 || typeOID == PostgresType.int4,
            let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { throw .mismatch(Decimal.self, typeOID, text) }
        self = value
    }
}

// MARK: - uuid, bytea

extension UUID: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: Array(uuidString.lowercased().utf8), typeOID: PostgresType.uuid)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard typeOID == PostgresType.uuid, let value = UUID(uuidString: text) else {
            throw .mismatch(UUID.self, typeOID, text)
        }
        self = value
    }
}

extension Data: PostgresEncodable, PostgresDecodable {
    public func postgresBind() throws -> PostgresBind {
        PostgresBind(bytes: Array(self), typeOID: PostgresType.bytea, isBinary: true)
    }
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        // bytea_output = hex (the default since 9.0): "\x0a1b...".
        guard typeOID == PostgresType.bytea, text.hasPrefix("\\x") else { throw .mismatch(Data.self, typeOID, text) }
        let hex = Array(text.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { throw .mismatch(Data.self, typeOID, text) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else {
                throw .mismatch(Data.self, typeOID, text)
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = Data(bytes)
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

// MARK: - JSON

/// A `Codable` value stored as `jsonb`.
public struct PostgresJSON<Value: Codable & Sendable>: PostgresEncodable, PostgresDecodable, Sendable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public func postgresBind() throws -> PostgresBind {
        let data = try JSONEncoder.postgres.encode(value)
        return try .text(String(decoding: data, as: UTF8.self), oid: PostgresType.jsonb)
    }

    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard typeOID == PostgresType.jsonb || typeOID == PostgresType.json else {
            throw .mismatch(Value.self, typeOID, text)
        }
        do {
            value = try JSONDecoder.postgres.decode(Value.self, from: Data(text.utf8))
        } catch {
            throw PostgresDecodingFailure("JSON does not decode as \(Value.self): \(error)")
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and ISO 8601 dates: stable JSON in the database.
    static var postgres: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var postgres: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
