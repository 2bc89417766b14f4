/// One rendered exposition (Prometheus text format 0.0.4), and its compressed form when a scrape asked for one.
public struct RenderedExposition: Sendable {
    /// The rendered text, UTF-8.
    public let bytes: [UInt8]
    /// ``bytes`` after the compressor given to ``MetricsRegistry/renderExposition(compressor:)``; nil when the
    /// caller gave none or the compressor failed.
    public let compressed: [UInt8]?

    package init(bytes: [UInt8], compressed: [UInt8]?) {
        self.bytes = bytes
        self.compressed = compressed
    }
}
