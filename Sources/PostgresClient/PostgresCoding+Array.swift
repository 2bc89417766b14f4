/// `int8[]` and `text[]` binds and results, for batch statements (`unnest($1::int8[])`).
///
/// Binds travel in PostgreSQL's binary array format (no quoting or escaping, no parsing on the server): a batch
/// of 1,000 ids or strings is one `memcpy`-like pass.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public func postgresBind() throws -> PostgresBind {
        try Element.postgresArrayBind(self)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard
            typeOID == Element.postgresArrayOID
                || (Element.postgresArrayOID == PostgresType.int8Array
                    && typeOID == PostgresType.int4Array)
        else { throw .mismatch([Element].self, typeOID, text) }
        self = try Element.postgresArrayDecode(text)
    }
}

/// An element type of a supported one-dimensional array.
public protocol PostgresArrayElement: PostgresDecodable, Sendable {
    static var postgresArrayOID: UInt32 { get }
    static var postgresElementOID: UInt32 { get }
    func postgresArrayLiteral() throws -> String
    /// The bind of an array of these elements (default: the text literal built from ``postgresArrayLiteral()``).
    static func postgresArrayBind(_ elements: [Self]) throws -> PostgresBind
    /// The elements of an array literal (default: each element's text decoded with ``PostgresDecodable``).
    static func postgresArrayDecode(_ text: String) throws(PostgresDecodingFailure) -> [Self]
}

extension PostgresArrayElement {
    public static func postgresArrayDecode(_ text: String) throws(PostgresDecodingFailure) -> [Self] {
        try parsePostgresArray(text).map { item throws(PostgresDecodingFailure) in
            guard let item else { throw PostgresDecodingFailure("NULL element in an array of non-optional values") }
            return try Self(postgresText: item, typeOID: postgresElementOID)
        }
    }

    public static func postgresArrayBind(_ elements: [Self]) throws -> PostgresBind {
        var text = "{"
        for (offset, element) in elements.enumerated() {
            if offset > 0 { text += "," }
            text += try element.postgresArrayLiteral()
        }
        text += "}"
        return try .text(text, oid: postgresArrayOID)
    }
}

/// PostgreSQL's binary format of a one-dimensional array without NULLs (`array_send`): header, then each element
/// as its length and bytes, integers big-endian.
enum PostgresBinaryArray {
    /// Header size: ndim, has-nulls flag, element OID, then length and lower bound of the one dimension.
    static let headerSize = 20

    /// Builds the array of `count` elements whose bytes take `payloadSize` in all; `write` appends each element
    /// (length word included) through the writer.
    static func bind(
        arrayOID: UInt32,
        elementOID: UInt32,
        count: Int,
        payloadSize: Int,
        _ write: (inout Writer) throws -> Void
    ) rethrows -> PostgresBind {
        let size = count == 0 ? 12 : headerSize + payloadSize
        let bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = Writer(base: buffer.baseAddress!)
            writer.int32(count == 0 ? 0 : 1)  // ndim (an empty array has none)
            writer.int32(0)  // no NULLs
            writer.uint32(elementOID)
            if count > 0 {
                writer.int32(Int32(count))
                writer.int32(1)  // lower bound
                try write(&writer)
            }
            precondition(writer.offset == size, "binary array size mismatch")
            initialized = size
        }
        return PostgresBind(bytes: bytes, typeOID: arrayOID, isBinary: true)
    }

    /// Writes big-endian words and raw bytes into a buffer sized in advance.
    struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var offset = 0

        mutating func int32(_ value: Int32) { uint32(UInt32(bitPattern: value)) }

        mutating func uint32(_ value: UInt32) {
            UnsafeMutableRawPointer(base + offset).storeBytes(of: value.bigEndian, as: UInt32.self)
            offset += 4
        }

        mutating func int64(_ value: Int64) {
            UnsafeMutableRawPointer(base + offset).storeBytes(of: value.bigEndian, as: Int64.self)
            offset += 8
        }

        mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
            guard let address = source.baseAddress, !source.isEmpty else { return }
            (base + offset).update(from: address, count: source.count)
            offset += source.count
        }
    }

    /// Reads `{1,-2,3}` straight from its UTF-8 bytes; nil for anything else (NULLs, quotes, spaces, overflow),
    /// which the general parser then handles or reports.
    static func integers(_ text: String) -> [Int64]? {
        var text = text
        return text.withUTF8 { bytes -> [Int64]? in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
                return nil
            }
            if bytes.count == 2 { return [] }
            var values: [Int64] = []
            values.reserveCapacity(bytes.count / 4)
            var index = 1
            let end = bytes.count - 1
            while index < end {
                let negative = bytes[index] == UInt8(ascii: "-")
                if negative { index += 1 }
                var value: Int64 = 0
                let start = index
                while index < end, bytes[index] != UInt8(ascii: ",") {
                    let digit = bytes[index] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (next, overflow2) =
                        negative
                        ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
                    guard !overflow1, !overflow2 else { return nil }
                    value = next
                    index += 1
                }
                guard index > start else { return nil }
                values.append(value)
                if index < end {
                    index += 1  // the comma
                    guard index < end else { return nil }
                }
            }
            return values
        }
    }

    static func int8Array<T: BinaryInteger>(_ elements: [T]) -> PostgresBind {
        bind(
            arrayOID: PostgresType.int8Array, elementOID: PostgresType.int8, count: elements.count,
            payloadSize: elements.count * 12
        ) { writer in
            for element in elements {
                writer.int32(8)
                writer.int64(Int64(element))
            }
        }
    }
}

extension Int64: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresType.int8Array }
    public static var postgresElementOID: UInt32 { PostgresType.int8 }
    public func postgresArrayLiteral() throws -> String { String(self) }
    public static func postgresArrayBind(_ elements: [Int64]) throws -> PostgresBind {
        PostgresBinaryArray.int8Array(elements)
    }
    public static func postgresArrayDecode(_ text: String) throws(PostgresDecodingFailure) -> [Int64] {
        if let values = PostgresBinaryArray.integers(text) { return values }
        return try parsePostgresArray(text).map { item throws(PostgresDecodingFailure) in
            guard let item else { throw PostgresDecodingFailure("NULL element in an array of non-optional values") }
            return try Int64(postgresText: item, typeOID: PostgresType.int8)
        }
    }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresType.int8Array }
    public static var postgresElementOID: UInt32 { PostgresType.int8 }
    public func postgresArrayLiteral() throws -> String { String(self) }
    public static func postgresArrayBind(_ elements: [Int]) throws -> PostgresBind {
        PostgresBinaryArray.int8Array(elements)
    }
    public static func postgresArrayDecode(_ text: String) throws(PostgresDecodingFailure) -> [Int] {
        try Int64.postgresArrayDecode(text).map { Int($0) }
    }
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

    /// Rejects NUL bytes like a text bind does (PostgreSQL text cannot store them).
    public static func postgresArrayBind(_ elements: [String]) throws -> PostgresBind {
        var payloadSize = 0
        for element in elements { payloadSize += 4 + element.utf8.count }
        return try PostgresBinaryArray.bind(
            arrayOID: PostgresType.textArray, elementOID: PostgresType.text, count: elements.count,
            payloadSize: payloadSize
        ) { writer in
            for element in elements {
                let utf8 = element.utf8
                writer.int32(Int32(utf8.count))
                let copied = utf8.withContiguousStorageIfAvailable { source -> Bool in
                    guard source.firstIndex(of: 0) == nil else { return false }
                    writer.bytes(source)
                    return true
                }
                switch copied {
                case .some(true):
                    continue
                case .some(false):
                    throw PostgresBind.nulError
                case .none:
                    let bytes = Array(utf8)
                    if bytes.contains(0) { throw PostgresBind.nulError }
                    bytes.withUnsafeBufferPointer { writer.bytes($0) }
                }
            }
        }
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
