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
        return deflateAll(bytes[...], &stream, flush: Z_FINISH)
    }

    /// Everything of `input` through `stream` in one `deflate(flush)` call into a buffer sized by `deflateBound`:
    /// the bytes written, or nil when zlib fails or does not take all of `input`. With `Z_FINISH` success means the
    /// stream ended; with a flush, that all input was consumed.
    static func deflateAll(_ input: ArraySlice<UInt8>, _ stream: inout z_stream, flush: Int32) -> [UInt8]? {
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 16
        var succeeded = false
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            input.withUnsafeBufferPointer { input in
                // zlib never writes through next_in (it is `z_const` in zlib.h when that macro is defined).
                stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
                stream.avail_in = uInt(input.count)
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                let status = deflate(&stream, flush)
                succeeded = stream.avail_in == 0 && (flush == Z_FINISH ? status == Z_STREAM_END : status == Z_OK)
            }
            initialized = succeeded ? buffer.count - Int(stream.avail_out) : 0
        }
        return succeeded ? output : nil
    }
}
