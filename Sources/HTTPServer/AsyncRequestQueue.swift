import CMicroHTTPD
import Synchronization

/// A request suspended in libmicrohttpd (`MHD_suspend_connection`) while its ``AsyncHTTPHandler`` runs.
///
/// Answered exactly once — by the handler, by the timeout or by the server stopping, whichever comes first — and
/// resumed (`MHD_resume_connection`) under the same lock, so a stopping server never stops the daemon while a
/// resume is in flight, and no connection is resumed after the queue closed.
final class PendingRequest: Sendable {
    let request: HTTPRequest
    let handler: AsyncHTTPHandler
    nonisolated(unsafe) private let connection: OpaquePointer
    private let state = Mutex<(answered: Bool, response: HTTPResponse?)>((false, nil))

    init(request: HTTPRequest, handler: @escaping AsyncHTTPHandler, connection: OpaquePointer) {
        self.request = request
        self.handler = handler
        self.connection = connection
    }

    /// Sets the response and resumes the connection; false when it was answered already.
    @discardableResult
    func answer(_ response: HTTPResponse) -> Bool {
        state.withLock { state in
            guard !state.answered else { return false }
            state.answered = true
            state.response = response
            MHD_resume_connection(connection)
            return true
        }
    }

    /// The response, once answered (read by the MHD thread after the resume).
    var response: HTTPResponse? { state.withLock { $0.response } }
}

/// The server's asynchronous requests: admission (bounded), the stream its service consumes, and shutdown.
final class AsyncRequestQueue: Sendable {
    enum Admission {
        case accepted
        /// ``HTTPServerConfiguration/asyncConcurrencyLimit`` requests are running.
        case busy
        /// The server is not started, or stopping.
        case unavailable
    }

    private struct State {
        var accepting = false
        var closed = false
        var admitted = 0
        var pending: [ObjectIdentifier: PendingRequest] = [:]
    }

    let limit: Int
    let timeout: Duration
    private let state = Mutex(State())
    private let stream: AsyncStream<PendingRequest>
    private let continuation: AsyncStream<PendingRequest>.Continuation

    init(limit: Int, timeout: Duration) {
        self.limit = limit
        self.timeout = timeout
        (stream, continuation) = AsyncStream.makeStream(of: PendingRequest.self)
    }

    /// Reserves a slot for a request (called on the MHD thread before suspending).
    func admit() -> Admission {
        state.withLock { state in
            guard state.accepting, !state.closed else { return .unavailable }
            guard state.admitted < limit else { return .busy }
            state.admitted += 1
            return .accepted
        }
    }

    /// Hands a suspended request to the service (called on the MHD thread right after `MHD_suspend_connection`).
    func submit(_ pending: PendingRequest) {
        let open = state.withLock { state in
            guard !state.closed else { return false }
            state.pending[ObjectIdentifier(pending)] = pending
            return true
        }
        if open {
            continuation.yield(pending)
        } else {
            pending.answer(.text("server is stopping\n", status: 503))
            finished(pending)
        }
    }

    /// Gives back an admitted request's slot (exactly once per admitted request).
    private func finished(_ pending: PendingRequest) {
        state.withLock { state in
            state.pending[ObjectIdentifier(pending)] = nil
            state.admitted -= 1
        }
    }

    /// Starts admitting requests (at start; submitted requests wait in the stream until ``serve()`` runs).
    func open() {
        state.withLock { $0.accepting = true }
    }

    /// Serves submitted requests until ``close()``; each in a child task, with the timeout. Run by the service.
    func serve() async {
        await withDiscardingTaskGroup { group in
            for await pending in stream {
                group.addTask { await self.serve(pending) }
            }
            group.cancelAll()
        }
    }

    private func serve(_ pending: PendingRequest) async {
        let timeout = self.timeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let response = await pending.handler(pending.request)
                pending.answer(response)
            }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                pending.answer(.text("request timed out after \(timeout)\n", status: 504))
            }
            await group.next()
            group.cancelAll()
        }
        finished(pending)
    }

    /// Stops admitting, answers every pending request 503 and ends ``serve()``. Called before the daemon stops.
    func close() {
        let pending = state.withLock { state in
            state.closed = true
            state.accepting = false
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for request in pending { request.answer(.text("server is stopping\n", status: 503)) }
        continuation.finish()
    }
}
