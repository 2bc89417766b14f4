import Testing

@testable import Monitoring

@Suite("Exposition bytes")
struct ExpositionBytesTests {
    @Test(
        "appendDecimal writes what String(_:) writes",
        arguments: [0, 1, 9, 10, 99, 100, 12_345, 1_000_000, Int.max, -1, -42, Int.min]
    )
    func decimal(value: Int) {
        var buffer: [UInt8] = Array("x ".utf8)
        buffer.appendDecimal(value)
        #expect(String(decoding: buffer, as: UTF8.self) == "x \(value)")
    }
}
