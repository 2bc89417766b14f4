import CZlib
import Glibc
import Synchronization

/// gzip (RFC 1952) of a body that is sent again and again with small changes (a metrics exposition), compressing
/// only the parts that changed since the previous call.
///
/// The body is cut into chunks of whole lines, each ending at the first line end at or after ``bytesPerChunk``
/// bytes from its start. Each chunk is compressed on its own as raw deflate ended
/// by a full flush (byte-aligned, no reference to earlier data), so compressed chunks can be concatenated: the
/// output is the gzip header, the chunks in order, an empty final block, and the CRC-32 (combined from the chunks'
/// own CRCs) and length of the whole body. A chunk equal, byte for byte, to the chunk at the same position in the
/// previous call reuses that call's compressed bytes. Cutting relative to each chunk's own start keeps a value that
/// grows a digit from moving every later chunk (they start one byte later and end one byte later, unchanged), and
/// finding a cut takes one `memchr` rather than one per line.
///
/// The price is a slightly larger output than ``Gzip/compress(_:level:)`` (matches never reach across chunks).
/// Calls are serialized by a lock; the cache holds one body's chunks.
public final class GzipChunkCache: Sendable {
    /// Bytes per chunk before its cut at the next line end (about 64 lines of Prometheus text): small enough that one
    /// changed series recompresses a few kilobytes, large enough that the output stays within about 15% of one-piece
    /// gzip.
    public static let bytesPerChunk = 6 * 1024

    private struct Chunk {
        var plain: ArraySlice<UInt8>
        var deflated: [UInt8]
        var crc: uLong
    }

    private let level: Int32
    private let chunks = Mutex<[Chunk]>([])

    /// - Parameter level: zlib level for changed chunks (1 fastest … 9 smallest).
    public init(level: Int32 = Gzip.defaultLevel) {
        self.level = level
    }

    /// The gzip encoding of `bytes`, or nil when zlib fails (out of memory) or the body exceeds 4 GiB.
    public func compress(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count <= Int(UInt32.max) else { return nil }
        return self.chunks.withLock { previous -> [UInt8]? in
            var stream = z_stream()
            guard slotworker_deflate_init_raw(&stream, level) == Z_OK else { return nil }
            defer { _ = deflateEnd(&stream) }
            var current: [Chunk] = []
            var output: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]  // gzip header: deflate, no name, OS unknown
            output.reserveCapacity(bytes.count / 8 + 64)
            var crc = crc32(0, nil, 0)
            for range in Self.chunkRanges(bytes) {
                let plain = bytes[range]
                let index = current.count
                let chunk: Chunk
                if index < previous.count, Self.same(previous[index].plain, plain) {
                    chunk = Chunk(plain: plain, deflated: previous[index].deflated, crc: previous[index].crc)
                } else {
                    guard deflateReset(&stream) == Z_OK,
                        let deflated = Gzip.deflateAll(plain, &stream, flush: Z_FULL_FLUSH)
                    else {
                        return nil
                    }
                    let chunkCRC = plain.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
                    chunk = Chunk(plain: plain, deflated: deflated, crc: chunkCRC)
                }
                output.append(contentsOf: chunk.deflated)
                crc = crc32_combine(crc, chunk.crc, off_t(plain.count))
                current.append(chunk)
            }
            output.append(contentsOf: [0x03, 0x00])  // an empty fixed-Huffman block with BFINAL set
            for value in [UInt32(truncatingIfNeeded: crc), UInt32(truncatingIfNeeded: bytes.count)] {
                withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
            }
            previous = current
            return output
        }
    }

    /// Ranges of at least ``bytesPerChunk`` bytes each, every one ending with a line feed except the last, which
    /// ends where the body does.
    package static func chunkRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        bytes.withUnsafeBufferPointer { buffer -> [Range<Int>] in
            guard let base = buffer.baseAddress else { return [] }
            var ranges: [Range<Int>] = []
            var start = 0
            while start < buffer.count {
                let searchFrom = start + bytesPerChunk - 1
                guard searchFrom < buffer.count,
                    let newline = memchr(base + searchFrom, Int32(UInt8(ascii: "\n")), buffer.count - searchFrom)
                else {
                    ranges.append(start..<buffer.count)
                    break
                }
                let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                ranges.append(start..<end)
                start = end
            }
            return ranges
        }
    }

    /// Whether two chunks hold the same bytes (memcmp: `==` on slices compares element by element).
    private static func same(_ left: ArraySlice<UInt8>, _ right: ArraySlice<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        return left.withUnsafeBytes { left in
            right.withUnsafeBytes { right in
                guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
                return memcmp(leftBase, rightBase, left.count) == 0
            }
        }
    }
}
