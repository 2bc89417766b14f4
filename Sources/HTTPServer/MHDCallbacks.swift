import CMicroHTTPD
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// The libmicrohttpd callbacks. They are plain, non-capturing global functions (never closures in `main.swift`,
// which would be main-actor isolated and crash when an MHD thread calls them). Everything they need reaches them
// through the `cls` pointer: an `MHDServerContext` retained by `HTTPServer` until `MHD_stop_daemon` has returned.

/// What the callbacks of one running daemon share. Retained (`Unmanaged.passRetained`) by ``HTTPServer`` from
/// start until after `MHD_stop_daemon` returned, so MHD threads never see a dangling pointer.
final class MHDServerContext: Sendable {
    let handler: HTTPHandler
    let mounts: [HTTPMount]
    let asyncRequests: AsyncRequestQueue
    let maxRequestBodyBytes: Int
    let logger: Logger
    /// Requests that have started (request line received) and not yet completed.
    let liveRequests = Atomic<Int>(0)
    /// The last message libmicrohttpd logged (used to explain a failed start).
    let lastLogMessage = Mutex<String?>(nil)
    /// Whether the daemon started: later messages (mostly about misbehaving clients) are logged at debug level, so
    /// clients cannot flood the log; messages before that explain a failed start and are logged as warnings.
    let started = Atomic<Bool>(false)

    init(
        handler: @escaping HTTPHandler,
        mounts: [HTTPMount],
        asyncRequests: AsyncRequestQueue,
        maxRequestBodyBytes: Int,
        logger: Logger
    ) {
        self.handler = handler
        self.mounts = mounts
        self.asyncRequests = asyncRequests
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.logger = logger
    }
}

/// Per-request state, owned by MHD's `*con_cls` slot: retained when the request starts, released by the
/// request-completed callback. Only the MHD thread serving the connection touches it.
final class MHDRequestState {
    /// The raw request target (path and query) as sent, when known.
    let rawTarget: String?
    /// Whether the first access-handler call (headers complete) has happened.
    var headersSeen = false
    /// The request body received so far (at most the body limit).
    var body: [UInt8] = []
    /// Whether the body grew past the limit: the rest is discarded and the request answered 413.
    var rejected = false
    /// The request while an ``AsyncHTTPHandler`` answers it (the connection is suspended meanwhile).
    var pending: PendingRequest?

    init(rawTarget: String?) {
        self.rawTarget = rawTarget
    }

    /// The raw query string (after the first `?`), or nil.
    var query: String? {
        guard let rawTarget, let mark = rawTarget.firstIndex(of: "?") else { return nil }
        return String(rawTarget[rawTarget.index(after: mark)...])
    }
}

/// Response header names the server manages itself; handler values for them are dropped.
private let managedResponseHeaders = ["content-length", "connection", "date", "transfer-encoding"]

private func context(_ cls: UnsafeMutableRawPointer) -> MHDServerContext {
    Unmanaged<MHDServerContext>.fromOpaque(cls).takeUnretainedValue()
}

private func makeRequestState(_ context: MHDServerContext, rawTarget: String?) -> UnsafeMutableRawPointer {
    context.liveRequests.add(1, ordering: .relaxed)
    return Unmanaged.passRetained(MHDRequestState(rawTarget: rawTarget)).toOpaque()
}

/// `MHD_OPTION_URI_LOG_CALLBACK`: called once per request with the raw target; creates the request state.
func mhdURILogCallback(
    cls: UnsafeMutableRawPointer?,
    uri: UnsafePointer<CChar>?,
    connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    guard let cls else { return nil }
    return makeRequestState(context(cls), rawTarget: uri.map { String(cString: $0) })
}

/// `MHD_OPTION_NOTIFY_COMPLETED`: releases the request state (whether the request succeeded or not).
func mhdRequestCompletedCallback(
    cls: UnsafeMutableRawPointer?,
    connection: OpaquePointer?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    termination: MHD_RequestTerminationCode
) {
    guard let cls, let requestContext, let state = requestContext.pointee else { return }
    requestContext.pointee = nil
    Unmanaged<MHDRequestState>.fromOpaque(state).release()
    context(cls).liveRequests.subtract(1, ordering: .relaxed)
}

/// `MHD_OPTION_EXTERNAL_LOGGER`: formats MHD's message and hands it to the server's logger.
func mhdLogCallback(cls: UnsafeMutableRawPointer?, format: UnsafePointer<CChar>?, arguments: CVaListPointer?) {
    guard let cls, let format, let arguments else { return }
    var buffer = [CChar](repeating: 0, count: 512)
    _ = slotworker_mhd_format_log(&buffer, buffer.count, format, arguments)
    var message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    while message.last?.isNewline == true { message.removeLast() }
    let context = context(cls)
    context.lastLogMessage.withLock { $0 = message }
    let level: Logger.Level = context.started.load(ordering: .relaxed) ? .debug : .warning
    context.logger.log(level: level, "libmicrohttpd", metadata: ["http.mhd.message": "\(message)"])
}

/// The access handler, two-phase so keep-alive works.
///
/// 1. First call (headers complete): remember it and answer nothing, unless `Content-Length` already exceeds the
///    body limit (then 413; MHD closes the connection afterwards).
/// 2. Calls with upload data: keep it (`*upload_data_size = 0`); once a body grows past the limit (chunked), the
///    rest is discarded and the request answered 413 at its end (the connection timeout bounds how long that
///    takes).
/// 3. Last call (`*upload_data_size == 0`): build the request. A path under an ``HTTPMount`` is admitted to the
///    asynchronous queue (503 when it is full or not running), the connection suspended, and the call returns; the
///    handler's task resumes the connection, and MHD calls again (4). Any other path runs the synchronous handler
///    and queues its response.
/// 4. The call after a resume: queue the asynchronous handler's response.
func mhdAccessHandlerCallback(
    cls: UnsafeMutableRawPointer?,
    connection: OpaquePointer?,
    url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?,
    version: UnsafePointer<CChar>?,
    uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let uploadDataSize, let requestContext else { return .NO }
    let context = context(cls)
    if requestContext.pointee == nil {
        requestContext.pointee = makeRequestState(context, rawTarget: nil)
    }
    let state = Unmanaged<MHDRequestState>.fromOpaque(requestContext.pointee!).takeUnretainedValue()

    if !state.headersSeen {
        state.headersSeen = true
        if let declared = lookupHeader(connection, "Content-Length").flatMap(Int.init),
            declared > context.maxRequestBodyBytes
        {
            return queue(.text("request body too large\n", status: 413), on: connection, logger: context.logger)
        }
        return .YES
    }

    if uploadDataSize.pointee > 0 {
        let size = uploadDataSize.pointee
        uploadDataSize.pointee = 0
        if state.rejected { return .YES }
        guard state.body.count + size <= context.maxRequestBodyBytes else {
            state.rejected = true
            state.body = []
            return .YES
        }
        if let uploadData {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: size) { bytes in
                state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: size))
            }
        }
        return .YES
    }
    if state.rejected {
        return queue(.text("request body too large\n", status: 413), on: connection, logger: context.logger)
    }

    if let pending = state.pending {
        guard let response = pending.response else { return .YES }
        state.pending = nil
        return queue(response, on: connection, logger: context.logger)
    }

    let request = HTTPRequest(
        method: method.map { String(cString: $0) } ?? "",
        path: url.map { String(cString: $0) } ?? "/",
        query: state.query,
        headers: requestHeaders(connection),
        version: version.map { String(cString: $0) } ?? "",
        body: state.body
    )
    if let mount = context.mounts.first(where: { $0.matches(request.path) }) {
        switch context.asyncRequests.admit() {
        case .busy:
            var busy = HTTPResponse.text("too many requests in progress; retry shortly\n", status: 503)
            busy.headers.add(name: "Retry-After", value: "1")
            return queue(busy, on: connection, logger: context.logger)
        case .unavailable:
            return queue(.text("not serving\n", status: 503), on: connection, logger: context.logger)
        case .accepted:
            let pending = PendingRequest(request: request, handler: mount.handler, connection: connection)
            state.pending = pending
            MHD_suspend_connection(connection)
            context.asyncRequests.submit(pending)
            return .YES
        }
    }
    let response = context.handler(request)
    return queue(response, on: connection, logger: context.logger)
}

private func lookupHeader(_ connection: OpaquePointer, _ name: String) -> String? {
    MHD_lookup_connection_value(connection, .HEADER_KIND, name).map { String(cString: $0) }
}

private func requestHeaders(_ connection: OpaquePointer) -> HTTPHeaders {
    var pairs: [(String, String)] = []
    withUnsafeMutablePointer(to: &pairs) { pointer in
        _ = MHD_get_connection_values(connection, .HEADER_KIND, mhdCollectHeader, pointer)
    }
    return HTTPHeaders(pairs)
}

/// `MHD_KeyValueIterator` appending each header to the `[(String, String)]` that `cls` points to.
private func mhdCollectHeader(
    cls: UnsafeMutableRawPointer?,
    kind: MHD_ValueKind,
    key: UnsafePointer<CChar>?,
    value: UnsafePointer<CChar>?
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let pairs = cls.assumingMemoryBound(to: [(String, String)].self)
    pairs.pointee.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
    return .YES
}

/// Copies `response` into an MHD response (`.RESPMEM_MUST_COPY`) and queues it.
private func queue(_ response: HTTPResponse, on connection: OpaquePointer, logger: Logger) -> MHD_Result {
    // MHD copies the bytes before returning and never writes through the pointer; reading in place avoids a
    // copy-on-write of bodies shared with their producer (a /metrics render is shared by concurrent scrapes).
    let created = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(
            bytes.count, bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }, .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse = created else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    for field in response.headers where !managedResponseHeaders.contains(field.name.lowercased()) {
        if MHD_add_response_header(mhdResponse, field.name, field.value) == .NO {
            logger.warning("Dropped an invalid response header", metadata: ["http.header": "\(field.name)"])
        }
    }
    var status = response.status
    if !(100...599).contains(status) {
        logger.error("Handler returned an invalid status; answering 500", metadata: ["http.status": "\(status)"])
        status = 500
    }
    return MHD_queue_response(connection, UInt32(status), mhdResponse)
}
