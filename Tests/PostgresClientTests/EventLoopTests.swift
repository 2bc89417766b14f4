import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PostgresClient

@Suite("Non-blocking I/O and event loops")
struct EventLoopTests {
    /// Tasks that prefer an event loop run there, and their statements' answers resume them on that loop's thread.
    @Test func tasksOnEventLoopsRunTheirQueriesThere() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 4, acquireTimeout: .seconds(30))
        let loops = [PostgresEventLoop(), PostgresEventLoop()]
        let offLoop = Counter()
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 1...200 {
                let loop = loops[value % 2]
                group.addTask(executorPreference: loop) {
                    let rows = try await pool.query("SELECT $1::int8 AS v", [value], prepared: value.isMultiple(of: 3))
                    if PostgresEventLoop.current !== loop { offLoop.increment() }
                    return try rows[0].decode("v", as: Int.self)
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 200 * 201 / 2)
        #expect(offLoop.value == 0)
        // Tasks without a preference never run on a loop.
        _ = try await pool.query("SELECT 1")
        #expect(PostgresEventLoop.current == nil)
    }

    /// A statement in flight holds no thread: while four connections sleep in the server, a task on the same event
    /// loop runs 50 queries on a fifth, all finished long before the sleepers wake (an idle machine takes ~30 ms for
    /// them; the sleepers' 4 s leave room for a loaded one: a CI run took over 1.3 s).
    @Test func sleepingStatementsDoNotHoldTheLoop() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 5)
        let loop = PostgresEventLoop()
        let finished = try await withThrowingTaskGroup(of: (String, ContinuousClock.Instant).self) { group in
            for _ in 0..<4 {
                group.addTask(executorPreference: loop) {
                    _ = try await pool.query("SELECT pg_sleep(4)")
                    return ("sleeper", .now)
                }
            }
            group.addTask(executorPreference: loop) {
                try await Task.sleep(for: .milliseconds(200))
                for _ in 0..<50 { _ = try await pool.query("SELECT 1") }
                return ("queries", .now)
            }
            var finished: [(String, ContinuousClock.Instant)] = []
            for try await event in group { finished.append(event) }
            return finished
        }
        let queriesDone = try #require(finished.first { $0.0 == "queries" }?.1)
        let firstSleeperDone = try #require(finished.filter { $0.0 == "sleeper" }.map(\.1).min())
        #expect(queriesDone < firstSleeperDone)
    }

    /// A task that keeps yielding on a loop (always a job ready) starves neither the sockets nor other threads'
    /// jobs: a query on the same loop and a job enqueued from outside both finish while it spins.
    @Test func yieldingTaskStarvesNothing() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        let loop = PostgresEventLoop()
        let done = Counter()
        let spinnerSawBoth = try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask(executorPreference: loop) {
                let deadline = ContinuousClock.now + .seconds(10)
                while done.value < 2 {
                    if ContinuousClock.now > deadline { return false }
                    await Task.yield()
                }
                return true
            }
            group.addTask(executorPreference: loop) {
                for _ in 0..<20 { _ = try await pool.query("SELECT pg_sleep(0.01)") }
                done.increment()
                return nil
            }
            group.addTask {
                // Started from the cooperative pool: this task's jobs reach the loop from another thread.
                try await withTaskExecutorPreference(loop) {
                    try await Task.sleep(for: .milliseconds(50))
                    #expect(PostgresEventLoop.current === loop)
                }
                done.increment()
                return nil
            }
            return try await group.compactMap { $0 }.reduce(true) { $0 && $1 }
        }
        #expect(spinnerSawBoth)
    }

    /// Values larger than a socket's initial send buffer travel both ways (the request may need several flushes as
    /// the socket drains, the answer several reads), on the shared loop and on a loop of the task's own.
    @Test(arguments: [false, true])
    func largeValuesTravelBothWays(onLoop: Bool) async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        let text = String(repeating: "0123456789abcdef", count: 32 * 1024)  // 512 KiB
        let bytes = Data((0..<(1 << 18)).map { UInt8(truncatingIfNeeded: $0 &* 31) })  // 256 KiB
        let loop = onLoop ? PostgresEventLoop() : nil
        try await withTaskExecutorPreference(loop) {
            let rows = try await pool.query(
                "SELECT $1::text AS t, length($1::text) AS n, $2::bytea AS b",
                [text, bytes]
            )
            #expect(try rows[0].decode("n", as: Int.self) == text.utf8.count)
            #expect(try rows[0].decode("t", as: String.self) == text)
            #expect(try rows[0].decode("b", as: Data.self) == bytes)
        }
    }

    /// Two statements at once on one connection is a clear error, not a corrupted protocol; the connection keeps
    /// working.
    @Test func concurrentUseOfOneConnectionIsAClearError() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        try await pool.withConnection { connection in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await connection.query("SELECT pg_sleep(0.5)") }
                try await Task.sleep(for: .milliseconds(100))
                let error = await #expect(throws: PostgresError.self) { _ = try await connection.query("SELECT 1") }
                #expect(error?.kind == .misuse)
                try await group.waitForAll()
            }
            #expect(try await connection.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
        }
    }

    /// Cancelling the awaiting task cancels the statement in the server; the connection stays usable. A task
    /// cancelled before its statement is sent does not send it (a cancel request reaching the server before the
    /// backend starts the statement would be lost), and fails the same way.
    @Test(arguments: [false, true])
    func cancellingTheTaskCancelsTheStatement(cancelledBeforeSending: Bool) async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        _ = try await pool.query("SELECT 1")  // the connection is open, so acquiring it does not wait
        let start = ContinuousClock.now
        let sleeper = Task {
            if cancelledBeforeSending { withUnsafeCurrentTask { $0?.cancel() } }
            return try await pool.query("SELECT pg_sleep(10)")
        }
        if !cancelledBeforeSending {
            try await Task.sleep(for: .milliseconds(200))
            sleeper.cancel()
        }
        let error = await #expect(throws: PostgresError.self) { _ = try await sleeper.value }
        #expect(error?.kind == .queryCanceled)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(try await pool.query("SELECT 3 AS three")[0].decode("three", as: Int.self) == 3)
    }

    /// A backend terminated while its statement runs fails that statement at once with `.connectionLost` (the loop
    /// sees the socket close), and the pool replaces the connection.
    @Test func backendTerminatedMidStatementFailsItPromptly() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        let pid = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let error = await #expect(throws: PostgresError.self) {
                    _ = try await pool.query("SELECT pg_sleep(10)")
                }
                #expect(error?.kind == .connectionLost)
            }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await TestDatabase.admin("SELECT pg_terminate_backend($1::int)", [pid])
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        let newPID = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
        #expect(newPID != pid)
    }
}

@Suite("Cooperative budget")
struct CooperativeBudgetTests {
    /// A task that only ever calls `spend()` (as a loop of statements that complete without suspending does) still
    /// lets another task on the same single thread run, within a few slices.
    @Test func spendingTaskLetsOthersRun() async throws {
        let loop = PostgresEventLoop()
        let started = Counter()
        let other = Counter()
        let spins = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask(executorPreference: loop) {
                started.increment()
                // Long enough for the test's own task, on the shared cooperative pool, to add the other task while
                // other suites load both threads (at 5 s a CI run timed out before it did); the loop ends as soon as
                // the other task ran.
                let deadline = ContinuousClock.now + .seconds(60)
                var spins = 0
                while other.value == 0, ContinuousClock.now < deadline {
                    spins += 1
                    await CooperativeBudget.spend()
                }
                return other.value == 0 ? nil : spins
            }
            // The other task reaches the loop only once the spinner holds it.
            while started.value == 0 { try await Task.sleep(for: .milliseconds(1)) }
            group.addTask(executorPreference: loop) {
                other.increment()
                return nil
            }
            return try await group.compactMap { $0 }.reduce(0, max)
        }
        #expect(other.value == 1)
        #expect(spins > 0, "the spinner never let the other task run")
    }

    @Test func sliceRule() {
        #expect(!CooperativeBudget.isExhausted(since: 5_000_000, now: 14_999_999))
        #expect(CooperativeBudget.isExhausted(since: 5_000_000, now: 15_000_000))
    }
}
