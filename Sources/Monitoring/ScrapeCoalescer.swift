import Foundation

/// Lets concurrent scrapes share one render without ever serving data older than the request.
///
/// Renders are numbered. A caller needs render `n + 1`, where `n` is the newest render started so far (finished or
/// running): that one is guaranteed to start after the call. If nobody runs it yet, the caller renders it; otherwise
/// it waits for its result. With k scrapes in flight, about one render serves them all instead of k in a row.
///
/// `@unchecked Sendable`: all state is guarded by `condition`.
final class ScrapeCoalescer: @unchecked Sendable {
    private let condition = NSCondition()
    private var completed = 0
    private var completedBody: [UInt8] = []
    private var running: Int?
    private var sizeHint = 4096

    /// Returns the body of a render that started after this call; `render` gets the last body's size as a hint.
    func fresh(_ render: (Int) -> [UInt8]) -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        let needed = (running ?? completed) + 1
        while completed < needed {
            if running == nil {
                running = needed
                let hint = sizeHint
                condition.unlock()
                let body = render(hint)
                condition.lock()
                completed = needed
                completedBody = body
                sizeHint = body.count
                running = nil
                condition.broadcast()
            } else {
                condition.wait()
            }
        }
        return completedBody
    }
}
