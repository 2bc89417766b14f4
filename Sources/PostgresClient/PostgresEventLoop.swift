import CEpoll
import Foundation
import Synchronization

/// The PostgreSQL client's event loop: one dedicated thread that waits for every connection's socket at once and can
/// also run tasks, so that no thread ever blocks in libpq.
///
/// ## Sockets
/// A connection sends its statement with libpq's non-blocking API on the caller's thread, then asks the loop to call
/// it back once its socket is readable (or writable, while a large request is still being sent). The loop sleeps in
/// `epoll_wait(2)`, runs each ready socket's callback, and goes back to sleep; the callback lets libpq parse what
/// arrived and either resumes the awaiting task or waits again. A statement in flight holds a socket, not a thread.
/// Registrations are one-shot: a callback runs at most once per ``wait(for:on:_:)``; callbacks must not block.
///
/// ## Tasks
/// The loop is also a `TaskExecutor`. A task that prefers it (`Task(executorPreference: PostgresEventLoop.shared)`,
/// `withTaskExecutorPreference`) runs on the loop's thread: when its statement's answer arrives, the loop resumes it
/// on the spot instead of handing it to Swift's cooperative pool, which saves two thread wake-ups per statement. Use
/// it for loops that mostly talk to the database; CPU-heavy or blocking work does not belong there, since it delays
/// every connection's I/O.
///
/// `@unchecked Sendable` invariant: `epoll`, `wakeFD` and `thread` are immutable after init; `callbacks` and
/// `remoteJobs` are guarded by their mutexes; `localJobs` is touched only on the loop's thread.
package final class PostgresEventLoop: TaskExecutor, @unchecked Sendable {
    /// What a callback waits for, and what was ready when it ran.
    struct Readiness: OptionSet, Sendable {
        let rawValue: UInt32

        static let readable = Readiness(rawValue: UInt32(EPOLLIN.rawValue))
        static let writable = Readiness(rawValue: UInt32(EPOLLOUT.rawValue))
    }

    typealias Callback = @Sendable (Readiness) -> Void

    /// The process-wide default loop; its thread starts on first use and lives as long as the process.
    package static let shared = PostgresEventLoop()

    /// The loop whose thread is the calling thread, if any.
    static var current: PostgresEventLoop? {
        pthread_getspecific(currentKey).map { Unmanaged<PostgresEventLoop>.fromOpaque($0).takeUnretainedValue() }
    }

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    private let epoll: Int32
    private let wakeFD: Int32
    private let callbacks = Mutex<[Int32: Callback]>([:])
    private let remoteJobs = Mutex<[UnownedJob]>([])
    private let wakePending = Atomic<Bool>(false)
    private var localJobs: [UnownedJob] = []

    /// Starts a loop with a thread of its own, which lives as long as the process.
    package init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wakeFD >= 0, "cannot create the PostgreSQL event loop: errno \(errno)")
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue)
        event.data.fd = wakeFD
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl failed: errno \(errno)")
        Thread { [self] in run() }.start()
    }

    private var isLoopThread: Bool { Self.current === self }

    /// Runs `job` on the loop's thread: after the current callback when called from the loop itself, otherwise as
    /// soon as the loop wakes.
    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isLoopThread {
            localJobs.append(job)
            return
        }
        remoteJobs.withLock { $0.append(job) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Calls `callback` once, on the loop's thread, when `socket` is ready for any of `readiness`. An error or
    /// hang-up on the socket counts as both readable and writable, so that libpq gets to report it.
    ///
    /// - Precondition: no other wait is pending on `socket`.
    func wait(for readiness: Readiness, on socket: Int32, _ callback: @escaping Callback) {
        callbacks.withLock { $0[socket] = callback }
        var event = epoll_event()
        event.events = readiness.rawValue | UInt32(EPOLLONESHOT.rawValue)
        event.data.fd = socket
        if epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0 {
            let modifyError = errno
            if modifyError != ENOENT || epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) != 0 {
                // The socket is not pollable (closed underneath us): let the callback find out through libpq.
                if let callback = callbacks.withLock({ $0.removeValue(forKey: socket) }) {
                    callback([.readable, .writable])
                }
            }
        }
    }

    private func run() {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        Thread.current.name = "slotworker-pg"
        let capacity: Int32 = 64
        var events = [epoll_event](repeating: epoll_event(), count: Int(capacity))
        let failure = UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue)
        while true {
            runJobs()
            // With jobs ready, look at the sockets only when some wait is pending (no system call otherwise: a task
            // that yields on its own loop runs again at once). Remote jobs are drained by every runJobs, and a
            // wake-up left in the eventfd is read the next time the loop sleeps.
            if !localJobs.isEmpty, callbacks.withLock({ $0.isEmpty }) { continue }
            let timeout: Int32 = localJobs.isEmpty ? -1 : 0
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, capacity, timeout) }
            if count < 0 {
                precondition(errno == EINTR, "epoll_wait failed: errno \(errno)")
                continue
            }
            for index in 0..<Int(count) {
                let socket = events[index].data.fd
                if socket == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    wakePending.store(false, ordering: .releasing)
                    continue
                }
                let flags = events[index].events
                let ready = flags & failure != 0 ? [.readable, .writable] : Readiness(rawValue: flags)
                if let callback = callbacks.withLock({ $0.removeValue(forKey: socket) }) {
                    callback(ready)
                }
            }
        }
    }

    /// Runs the jobs enqueued so far, from other threads and by the loop itself (jobs those jobs enqueue wait for the
    /// next turn, after the sockets have been looked at).
    private func runJobs() {
        var jobs = remoteJobs.withLock { jobs in
            defer { jobs = [] }
            return jobs
        }
        jobs.append(contentsOf: localJobs)
        localJobs = []
        let executor = asUnownedTaskExecutor()
        for job in jobs { job.runSynchronously(on: executor) }
    }
}
