import CZlib

/// gzip (RFC 1952) compression of whole response bodies with zlib.
///
/// One call makes one gzip member: the output buffer is sized with `deflateBound`, so a single
/// `deflate(Z_FINISH)` call compresses everything; nothing is streamed or kept between calls.
public enum Gzip {
    /// zlib's fastest level. Text such as a Prometheus exposition still shrinks about tenfold, and a scrape must stay
    /// cheap for the thread that serves it (higher levels cost several times the CPU for a few percent).
    public static let defaultLevel: Int32 = 1

    /// The gzip encoding of `bytes` at `level` (1 fastest … 9 smallest), or nil when zlib fails (it can only run out
    /// of memory here) or the input exceeds zlib's 4 GiB limit for one call.
    public static func compress(_ bytes: [UInt8], level: Int32 = defaultLevel) -> [UInt8]? {
        guard bytes.count <= Int(UInt32.max) else { return nil }
        var stream = z_stream()
        guard slotworker_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
        defer { _ = deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var status = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            bytes.withUnsafeBufferPointer { input in
                // zlib never writes through next_in (it is `z_const` in zlib.h when that macro is defined).
                stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
                stream.avail_in = uInt(input.count)
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                status = deflate(&stream, Z_FINISH)
            }
            initialized = status == Z_STREAM_END ? Int(stream.total_out) : 0
        }
        return status == Z_STREAM_END ? output : nil
    }
}
