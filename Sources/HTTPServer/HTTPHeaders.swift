/// An ordered list of HTTP header fields with case-insensitive lookup by name.
///
/// Names keep the spelling they were added with; lookups compare names ASCII case-insensitively, as HTTP requires.
/// A name may occur more than once (for example `Set-Cookie`); ``subscript(_:)`` returns the first value.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The field name as given.
        public var name: String
        /// The field value.
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private var fields: [Field]

    /// Creates an empty header list.
    public init() {
        self.fields = []
    }

    /// Creates a header list from name/value pairs, in order.
    public init(_ pairs: [(String, String)]) {
        self.fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of fields.
    public var count: Int { self.fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { self.fields.isEmpty }

    /// The value of the first field named `name` (case-insensitive), or nil.
    public subscript(_ name: String) -> String? {
        self.fields.first { Self.namesEqual($0.name, name) }?.value
    }

    /// All values of fields named `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        self.fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// Whether a field named `name` exists (case-insensitive).
    public func contains(_ name: String) -> Bool {
        self.fields.contains { Self.namesEqual($0.name, name) }
    }

    /// Appends a field, keeping existing fields of the same name.
    public mutating func add(name: String, value: String) {
        self.fields.append(Field(name: name, value: value))
    }

    /// Replaces all fields named `name` (case-insensitive) by one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        self.remove(name)
        self.fields.append(Field(name: name, value: value))
    }

    /// Removes all fields named `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        self.fields.removeAll { Self.namesEqual($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        self.fields.makeIterator()
    }

    /// ASCII case-insensitive comparison of two header names (names are tokens: ASCII only).
    static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        let lhs = lhs.utf8
        let rhs = rhs.utf8
        guard lhs.count == rhs.count else { return false }
        for (left, right) in zip(lhs, rhs) where left != right {
            guard Self.lowercased(left) == Self.lowercased(right) else { return false }
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte + 32 : byte
    }
}
