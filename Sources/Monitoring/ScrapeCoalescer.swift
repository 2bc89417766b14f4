import Foundation

/// Lets concurrent scrapes share one render (and its compression) without ever serving data older than the request.
///
/// Renders are numbered. A caller needs render `n + 1`, where `n` is the newest render started so far (finished or
/// running): that one is guaranteed to start after the call. If nobody runs it yet, the caller renders it; otherwise
/// it waits for its result. With k scrapes in flight, about one render serves them all instead of k in a row.
///
/// A caller that wants the output compressed leaves its compressor for the render it needs; that render then
/// compresses its output once, inside the shared section, for every caller of it. Compressing inside the section
/// matters: scrapes arriving while it runs wait for the next render together instead of each starting its own.
///
/// `@unchecked Sendable`: all state is guarded by `condition`.
final class ScrapeCoalescer: @unchecked Sendable {
    typealias Compressor = @Sendable ([UInt8]) -> [UInt8]?

    private let condition = NSCondition()
    private var completed = 0
    private var completedOutput = RenderedExposition(bytes: [], compressed: nil)
    private var running: Int?
    /// The compressor the next render to start must apply, left by a caller waiting for it.
    private var pendingCompressor: Compressor?
    private var sizeHint = 4096

    /// Returns the output of a render that started after this call; `render` gets the last body's size as a hint.
    /// With `compressor`, the returned exposition carries the compressed body (made by one of the callers sharing
    /// the render; all callers are expected to pass the same compressor).
    func fresh(compressor: Compressor?, _ render: (Int) -> [UInt8]) -> RenderedExposition {
        condition.lock()
        defer { condition.unlock() }
        let needed = (running ?? completed) + 1
        if let compressor { pendingCompressor = compressor }
        while completed < needed {
            if running == nil {
                running = needed
                let hint = sizeHint
                let compress = pendingCompressor
                pendingCompressor = nil
                condition.unlock()
                let body = render(hint)
                let output = RenderedExposition(bytes: body, compressed: compress.flatMap { $0(body) })
                condition.lock()
                completed = needed
                completedOutput = output
                sizeHint = body.count
                running = nil
                condition.broadcast()
            } else {
                condition.wait()
            }
        }
        return completedOutput
    }
}
