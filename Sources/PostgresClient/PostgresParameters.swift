/// A statement's `$n` values laid out as libpq's parallel C arrays. Call ``deallocate()`` once when done.
///
/// Every value sits in one buffer, each NUL-terminated (libpq reads text-format values up to the NUL).
struct PostgresParameters {
    let types: [UInt32]
    private let lengths: [Int32]
    private let formats: [Int32]
    private let values: [UnsafePointer<CChar>?]
    private let storage: UnsafeMutablePointer<CChar>

    init(_ binds: [PostgresBind]) {
        var size = 0
        for bind in binds { size += (bind.bytes?.count ?? 0) + 1 }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        var types = [UInt32](repeating: 0, count: binds.count)
        var lengths = [Int32](repeating: 0, count: binds.count)
        var formats = [Int32](repeating: 0, count: binds.count)
        var values = [UnsafePointer<CChar>?](repeating: nil, count: binds.count)
        var offset = 0
        for (index, bind) in binds.enumerated() {
            types[index] = bind.typeOID
            formats[index] = bind.isBinary ? 1 : 0
            guard let bytes = bind.bytes else { continue }
            lengths[index] = Int32(bytes.count)
            let target = storage + offset
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { source in
                    if let address = source.baseAddress { target.update(from: address, count: source.count) }
                }
            }
            target[bytes.count] = 0
            values[index] = UnsafePointer(target)
            offset += bytes.count + 1
        }
        self.types = types
        self.lengths = lengths
        self.formats = formats
        self.values = values
        self.storage = storage
    }

    /// Calls `body` with the count and the type, value, length and format arrays, valid only during the call.
    func withPointers<R>(
        _ body: (
            Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        types.withUnsafeBufferPointer { types in
            values.withUnsafeBufferPointer { values in
                lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in
                        body(
                            Int32(types.count), types.baseAddress, values.baseAddress, lengths.baseAddress,
                            formats.baseAddress)
                    }
                }
            }
        }
    }

    func deallocate() {
        storage.deallocate()
    }
}
