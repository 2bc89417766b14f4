/// One parameter value ready to travel to the server as `$n`.
///
/// Values are sent in text format (binary for `bytea`), with the type OID when the Swift type fixes it, or 0 to
/// let the server infer the type from context (used for `String`, so text binds into enum and varchar columns).
public struct PostgresBind: Sendable, Equatable {
    /// The value's bytes, nil for SQL NULL.
    public var bytes: [UInt8]?
    /// The parameter's type OID, 0 to let the server infer it.
    public var typeOID: UInt32
    /// True when `bytes` are in PostgreSQL's binary format (used for bytea).
    public var isBinary: Bool

    public init(bytes: [UInt8]?, typeOID: UInt32, isBinary: Bool = false) {
        self.bytes = bytes
        self.typeOID = typeOID
        self.isBinary = isBinary
    }

    /// SQL NULL of unspecified type.
    public static let null = PostgresBind(bytes: nil, typeOID: 0)

    /// A text-format bind; rejects NUL bytes, which text parameters cannot carry.
    static func text(_ string: String, oid: UInt32) throws -> PostgresBind {
        let bytes = Array(string.utf8)
        if bytes.contains(0) { throw nulError }
        return PostgresBind(bytes: bytes, typeOID: oid)
    }

    /// The error for text containing NUL.
    static var nulError: PostgresError {
        PostgresError(
            .invalidParameter,
            message: "a text parameter contains a NUL byte (U+0000), which PostgreSQL text cannot store",
            operation: "bind"
        )
    }
}

/// Well-known type OIDs (from `pg_type`).
public enum PostgresType {
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let varchar: UInt32 = 1043
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let int8Array: UInt32 = 1016
    public static let textArray: UInt32 = 1009
    public static let int4Array: UInt32 = 1007
}
