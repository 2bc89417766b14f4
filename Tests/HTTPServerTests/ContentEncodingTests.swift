import Foundation
import HTTPServer
import Testing

/// gunzip with Python's `gzip` module (an implementation independent of the server's zlib call; it checks the CRC
/// and length trailer), or a recorded failure.
func gunzip(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c", "import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))",
    ]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: Data(bytes))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python3 gzip.decompress failed", sourceLocation: sourceLocation)
    return Array(data)
}

/// A body that compresses well and is large enough to be compressed (like a metrics exposition).
let compressibleBody: [UInt8] = Array(
    (0..<2000).map { "metric_bucket{le=\"\($0)\"} \($0 * 7)\n" }.joined().utf8
)

@Suite("Content encoding (gzip)")
struct ContentEncodingTests {
    @Test(
        "Accept-Encoding negotiation follows RFC 9110 weights",
        arguments: [
            (nil, false), ("gzip", true), ("GZIP", true), ("x-gzip", true), ("deflate, gzip;q=0.5", true),
            ("gzip;q=0", false), ("gzip; q=0.000", false), ("*", true), ("*;q=0", false), ("gzip;q=0, *", false),
            ("br, *;q=0.1", true), ("identity", false), ("deflate", false), ("gzip;q=bad", false), ("", false),
            ("compress, gzip", true),
        ] as [(String?, Bool)]
    )
    func negotiation(header: String?, accepted: Bool) {
        var headers = HTTPHeaders()
        if let header { headers.add(name: "Accept-Encoding", value: header) }
        #expect(HTTPRequest(method: "GET", path: "/", headers: headers).acceptsGzip == accepted)
    }

    @Test("encoded(for:) compresses only when accepted and worth it, and always says Vary: Accept-Encoding")
    func encoding() throws {
        let gzipRequest = HTTPRequest(method: "GET", path: "/", headers: ["Accept-Encoding": "gzip"])
        let plainRequest = HTTPRequest(method: "GET", path: "/")
        let large = HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: compressibleBody)

        let compressed = large.encoded(for: gzipRequest)
        #expect(compressed.headers["Content-Encoding"] == "gzip")
        #expect(compressed.headers["Vary"] == "Accept-Encoding")
        #expect(compressed.headers["Content-Type"] == "text/plain")
        #expect(compressed.body.count < large.body.count / 4)
        #expect(try gunzip(compressed.body) == compressibleBody)

        let plain = large.encoded(for: plainRequest)
        #expect(plain.body == compressibleBody)
        #expect(!plain.headers.contains("Content-Encoding"))
        #expect(plain.headers["Vary"] == "Accept-Encoding")

        let small = HTTPResponse.text("ok\n").encoded(for: gzipRequest)
        #expect(small.body == Array("ok\n".utf8))
        #expect(!small.headers.contains("Content-Encoding"))

        // Already encoded bodies are left alone; an existing Vary naming Accept-Encoding is not repeated.
        var preEncoded = large
        preEncoded.headers.add(name: "Content-Encoding", value: "br")
        preEncoded.headers.add(name: "Vary", value: "Accept-Encoding, Origin")
        let untouched = preEncoded.encoded(for: gzipRequest)
        #expect(untouched.body == compressibleBody)
        #expect(untouched.headers.values(for: "Content-Encoding") == ["br"])
        #expect(untouched.headers.values(for: "Vary") == ["Accept-Encoding, Origin"])
    }

    @Test("Gzip.compress round-trips empty and binary input")
    func roundTrip() throws {
        #expect(try gunzip(try #require(Gzip.compress([]))) == [])
        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        for level: Int32 in [1, 9] {
            #expect(try gunzip(try #require(Gzip.compress(binary, level: level))) == binary)
        }
    }

    @Test("over a real socket: gzip with Content-Encoding and Vary for a client that asks, identity otherwise")
    func overSocket() async throws {
        let handler: HTTPHandler = { request in
            HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: compressibleBody)
                .encoded(for: request)
        }
        try await withServer(handler: handler) { _, port in
            let (gzipped, head, plain) = try await onThread {
                let client = try RawHTTPClient(port: port)
                let gzipped = try client.request("GET", "/", headers: ["Accept-Encoding: gzip, deflate"])
                let head = try client.request("HEAD", "/", headers: ["Accept-Encoding: gzip"])
                let plain = try client.request("GET", "/")
                return (gzipped, head, plain)
            }
            #expect(gzipped.status == 200)
            #expect(gzipped.header("Content-Encoding") == "gzip")
            #expect(gzipped.header("Vary") == "Accept-Encoding")
            #expect(gzipped.header("Content-Length") == String(gzipped.body.count))
            #expect(try gunzip(gzipped.body) == compressibleBody)
            #expect(head.header("Content-Length") == String(gzipped.body.count))
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.header("Vary") == "Accept-Encoding")
            #expect(plain.body == compressibleBody)
        }
    }
}
