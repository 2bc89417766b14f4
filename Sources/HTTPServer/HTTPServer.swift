import CMicroHTTPD
public import Logging
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP/1.1 server on libmicrohttpd, run as a swift-service-lifecycle `Service`.
///
/// Requests are answered by one synchronous ``HTTPHandler`` on libmicrohttpd's own threads
/// (``HTTPServerConfiguration/threadPoolSize`` of them, epoll, internal polling); the Swift concurrency pool is never
/// blocked by a request. Keep-alive, `HEAD` (headers without body), `Expect: 100-continue`, malformed requests
/// (answered 400 by libmicrohttpd) and connection limits are handled by libmicrohttpd.
///
/// Lifecycle:
/// - ``start()`` binds and starts serving; it throws ``HTTPServerError`` when the address cannot be bound.
/// - ``run()`` starts the server unless ``start()`` already did, waits for graceful shutdown, task cancellation or a
///   ``stop()`` called elsewhere, then performs ``stop()``. Calling ``start()`` first lets an app fail fast on bind
///   errors and learn the port before the service group runs.
/// - ``stop()`` is graceful: it calls `onShutdown` (so readiness can report 503), waits
///   ``HTTPServerConfiguration/shutdownDelay``, stops accepting connections (`MHD_quiesce_daemon`), waits until no
///   request is in flight (bounded by ``HTTPServerConfiguration/gracefulStopTimeout``; skipped when the calling task
///   is cancelled), then closes all connections (`MHD_stop_daemon`). A server is started at most once.
public final class HTTPServer: Service {
    private struct Running {
        var daemon: OpaquePointer
        var context: Unmanaged<MHDServerContext>
        var port: Int
    }

    private enum State {
        case idle
        case running(Running)
        case stopping(port: Int)
        case stopped
    }

    private let configuration: HTTPServerConfiguration
    private let logger: Logger
    private let handler: HTTPHandler
    private let onShutdown: @Sendable () -> Void
    private let state = Mutex<State>(.idle)
    private let stopSignal = Mutex(StopSignal())

    /// Tasks waiting (in ``run()``) for a stop that someone else performs.
    private struct StopSignal {
        var stopped = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    /// Creates a server; nothing is bound until ``start()`` or ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: where to listen and the limits.
    ///   - logger: receives libmicrohttpd's messages and lifecycle events.
    ///   - onShutdown: called once when a graceful stop begins, before the server stops accepting connections (for
    ///     example to flip readiness to "shutting down"). Runs on the stopping task; must not block.
    ///   - handler: answers every request (see the contract on ``HTTPHandler``).
    public init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
        logger: Logger,
        onShutdown: @escaping @Sendable () -> Void = {},
        handler: @escaping HTTPHandler
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onShutdown = onShutdown
        self.handler = handler
    }

    deinit {
        // A server dropped while running must not leave MHD threads calling into a released context.
        self.state.withLock { state in
            if case .running(let running) = state {
                MHD_stop_daemon(running.daemon)
                running.context.release()
                state = .stopped
            }
        }
    }

    /// The bound port while running or stopping (the ephemeral port when configured with port 0), else nil.
    public var port: Int? {
        self.state.withLock { state in
            switch state {
            case .running(let running): running.port
            case .stopping(let port): port
            case .idle, .stopped: nil
            }
        }
    }

    /// Requests that have started and not completed yet (0 when not running).
    public var requestsInFlight: Int {
        self.state.withLock { state in
            guard case .running(let running) = state else { return 0 }
            return running.context.takeUnretainedValue().liveRequests.load(ordering: .relaxed)
        }
    }

    /// Binds and starts serving.
    ///
    /// - Returns: the bound port.
    /// - Throws: ``HTTPServerError`` with code `.invalidConfiguration`, `.invalidHost`, `.bindFailed` (the reason
    ///   carries libmicrohttpd's message, for example "Address already in use") or `.alreadyStarted`.
    @discardableResult
    public func start() throws(HTTPServerError) -> Int {
        let configuration = self.configuration
        func failure(_ code: HTTPServerError.Code, _ reason: String) -> HTTPServerError {
            HTTPServerError(code: code, host: configuration.host, port: configuration.port, reason: reason)
        }
        guard (0...65535).contains(configuration.port) else {
            throw failure(.invalidConfiguration, "port must be within 0...65535")
        }
        let limits = [
            configuration.connectionLimit, configuration.threadPoolSize, configuration.connectionTimeoutSeconds,
            configuration.listenBacklog,
        ]
        guard limits.allSatisfy({ $0 > 0 && $0 <= Int(UInt32.max) }),
            (0...Int(UInt32.max)).contains(configuration.perIPConnectionLimit),
            configuration.maxRequestBodyBytes >= 0, configuration.connectionMemoryLimitBytes >= 4096
        else {
            throw failure(.invalidConfiguration, "limits, timeouts and thread count must be positive")
        }
        let address: SocketAddress
        switch SocketAddress.resolve(host: configuration.host, port: configuration.port) {
        case .success(let resolved): address = resolved
        case .failure(let error): throw failure(.invalidHost, "cannot resolve host: \(error.message)")
        }

        return try self.state.withLock { state throws(HTTPServerError) -> Int in
            guard case .idle = state else { throw failure(.alreadyStarted, "a server can be started once") }
            let context = Unmanaged.passRetained(
                MHDServerContext(
                    handler: self.handler,
                    maxRequestBodyBytes: configuration.maxRequestBodyBytes,
                    logger: self.logger
                )
            )
            var flags =
                MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_USE_ITC.rawValue
                | MHD_USE_ERROR_LOG.rawValue
            if address.isIPv6 { flags |= MHD_USE_IPv6.rawValue }
            var storage = address.storage
            let daemon = withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    slotworker_mhd_start_daemon(
                        flags,
                        socketAddress,
                        mhdAccessHandlerCallback, context.toOpaque(),
                        mhdRequestCompletedCallback, context.toOpaque(),
                        mhdURILogCallback, context.toOpaque(),
                        mhdLogCallback, context.toOpaque(),
                        UInt32(configuration.connectionLimit),
                        UInt32(configuration.perIPConnectionLimit),
                        UInt32(configuration.connectionTimeoutSeconds),
                        UInt32(configuration.threadPoolSize),
                        configuration.connectionMemoryLimitBytes,
                        UInt32(configuration.listenBacklog)
                    )
                }
            }
            guard let daemon else {
                let reason = context.takeUnretainedValue().lastLogMessage.withLock { $0 } ?? "libmicrohttpd failed"
                context.release()
                throw failure(.bindFailed, reason)
            }
            context.takeUnretainedValue().started.store(true, ordering: .relaxed)
            let port = Int(slotworker_mhd_bind_port(daemon))
            state = .running(Running(daemon: daemon, context: context, port: port))
            self.logger.info(
                "HTTP server listening",
                metadata: ["http.host": "\(configuration.host)", "http.port": "\(port)"]
            )
            return port
        }
    }

    /// Stops gracefully (see the type's documentation). Returns at once when the server is not running or another
    /// stop is already in progress; never throws.
    public func stop() async {
        let (running, isStopped): (Running?, Bool) = self.state.withLock { state in
            switch state {
            case .running(let running):
                state = .stopping(port: running.port)
                return (running, false)
            case .idle, .stopped:
                state = .stopped
                return (nil, true)
            case .stopping:
                return (nil, false)
            }
        }
        guard let running else {
            if isStopped { self.signalStopped() }
            return
        }
        let context = running.context.takeUnretainedValue()
        self.logger.info("HTTP server stopping", metadata: ["http.port": "\(running.port)"])
        self.onShutdown()

        if self.configuration.shutdownDelay > .zero {
            try? await Task.sleep(for: self.configuration.shutdownDelay)
        }
        let listenSocket = MHD_quiesce_daemon(running.daemon)
        let deadline = ContinuousClock.now.advanced(by: self.configuration.gracefulStopTimeout)
        while context.liveRequests.load(ordering: .relaxed) > 0,
            slotworker_mhd_current_connections(running.daemon) > 0,
            ContinuousClock.now < deadline, !Task.isCancelled
        {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let abandoned = context.liveRequests.load(ordering: .relaxed)
        if abandoned > 0 {
            self.logger.warning(
                "HTTP server stop timed out; closing connections with requests in flight",
                metadata: ["http.requests_in_flight": "\(abandoned)"]
            )
        }
        // Joins MHD's threads; handlers are short by contract, so this blocks only briefly.
        MHD_stop_daemon(running.daemon)
        if listenSocket >= 0 { close(listenSocket) }
        running.context.release()
        self.state.withLock { $0 = .stopped }
        self.signalStopped()
        self.logger.info("HTTP server stopped", metadata: ["http.port": "\(running.port)"])
    }

    /// Starts (unless ``start()`` already did), serves until graceful shutdown, task cancellation or a ``stop()``
    /// called elsewhere, then stops gracefully and returns.
    ///
    /// - Throws: ``HTTPServerError`` from starting, or `.alreadyStarted` when the server was already stopped.
    public func run() async throws {
        let needsStart = try self.state.withLock { state throws(HTTPServerError) -> Bool in
            switch state {
            case .idle: return true
            case .running: return false
            case .stopping, .stopped:
                throw HTTPServerError(
                    code: .alreadyStarted,
                    host: self.configuration.host,
                    port: self.configuration.port,
                    reason: "the server was stopped and cannot run again"
                )
            }
        }
        if needsStart { try self.start() }
        await cancelWhenGracefulShutdown { await self.waitUntilStopped() }
        await self.stop()
    }

    /// Returns once a stop has completed, or when the calling task is cancelled.
    private func waitUntilStopped() async {
        let id = self.stopSignal.withLock { signal in
            signal.nextID += 1
            return signal.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.stopSignal.withLock { signal in
                    guard !signal.stopped, !signal.cancelled.contains(id) else { return true }
                    signal.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.stopSignal.withLock { signal in
                signal.cancelled.insert(id)
                return signal.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        }
        self.stopSignal.withLock { _ = $0.cancelled.remove(id) }
    }

    private func signalStopped() {
        let waiters = self.stopSignal.withLock { signal in
            signal.stopped = true
            defer { signal.waiters = [:] }
            return Array(signal.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
