import Foundation
import HTTPServer
import Testing

@Suite("GzipChunkCache: gzip that recompresses only the changed chunks")
struct GzipChunkCacheTests {
    /// Prometheus-like text of `lines` series whose values come from `value`.
    static func exposition(lines: Int, value: (Int) -> Int = { $0 }) -> [UInt8] {
        Array(
            (0..<lines).map { #"slotworker_test_bucket{operation="op\#($0 / 12)",le="\#($0 % 12)"} \#(value($0))"# }
                .joined(separator: "\n").utf8) + [UInt8(ascii: "\n")]
    }

    @Test("round trips through an independent gunzip: empty, one line, no final newline, many chunks")
    func roundTrip() throws {
        let cache = GzipChunkCache()
        let bodies: [[UInt8]] = [
            [], Array("one line\n".utf8), Array("no final newline".utf8),
            Self.exposition(lines: 100), Self.exposition(lines: 1_000),
            Array((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }),
        ]
        for body in bodies {
            #expect(try gunzip(try #require(cache.compress(body))) == body)
        }
    }

    @Test("a changed value, a value that grows a digit, added and removed lines: each output decodes to its body")
    func changes() throws {
        let cache = GzipChunkCache()
        let versions = [
            Self.exposition(lines: 1_000),
            Self.exposition(lines: 1_000) { $0 == 500 ? 7 : $0 },
            Self.exposition(lines: 1_000) { $0 == 3 ? 1_000_000 : $0 },
            Self.exposition(lines: 1_130),
            Self.exposition(lines: 10),
            Self.exposition(lines: 1_000),
        ]
        for body in versions {
            #expect(try gunzip(try #require(cache.compress(body))) == body)
        }
    }

    @Test("unchanged chunks are reused: an unchanged body gives the same bytes, one changed line changes one chunk")
    func reuse() throws {
        let cache = GzipChunkCache()
        let body = Self.exposition(lines: 1_000)
        let first = try #require(cache.compress(body))
        #expect(try #require(cache.compress(body)) == first)
        let changed = try #require(cache.compress(Self.exposition(lines: 1_000) { $0 == 500 ? 123_456 : $0 }))
        // Same header and leading chunks, then the difference, then the same trailing chunks up to the trailer.
        let prefix = zip(first, changed).prefix { $0 == $1 }.count
        let suffix = zip(first.dropLast(8).reversed(), changed.dropLast(8).reversed()).prefix { $0 == $1 }.count
        #expect(prefix > first.count / 3)
        #expect(suffix > first.count / 3)
    }

    @Test("chunks end at the first line end after bytesPerChunk; a value growing a digit moves no later cut")
    func cuts() {
        let body = Self.exposition(lines: 1_000)
        let ranges = GzipChunkCache.chunkRanges(body)
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == body.count)
        for (range, next) in zip(ranges, ranges.dropFirst()) {
            #expect(range.upperBound == next.lowerBound)
            #expect(range.count >= GzipChunkCache.bytesPerChunk && body[range.upperBound - 1] == UInt8(ascii: "\n"))
            // The first line end at or after bytesPerChunk bytes: none between there and the cut.
            #expect(!body[(range.lowerBound + GzipChunkCache.bytesPerChunk - 1)..<(range.upperBound - 1)].contains(10))
        }
        // Line 3 grows from 1 digit to 7: the first cut moves by 6 bytes, every later chunk holds the same bytes.
        let grown = Self.exposition(lines: 1_000) { $0 == 3 ? 1_000_000 : $0 }
        let grownRanges = GzipChunkCache.chunkRanges(grown)
        #expect(grownRanges.count == ranges.count)
        for (old, new) in zip(ranges, grownRanges).dropFirst() {
            #expect(body[old] == grown[new])
        }
    }

    @Test("the output stays close to one-piece gzip for Prometheus text")
    func size() throws {
        let body = Self.exposition(lines: 1_500)
        let chunked = try #require(GzipChunkCache().compress(body)).count
        let whole = try #require(Gzip.compress(body)).count
        #expect(Double(chunked) < Double(whole) * 1.5)
    }
}
