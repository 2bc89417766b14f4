import Foundation
import MonitoringAdapters
import PostgresClient
import Synchronization
import Testing

@testable import Monitoring

@Suite("PoolMetrics and ProcessMetrics")
struct PoolAndProcessMetricsTests {
    @Test("pool gauges follow the statistics source at scrape time; errors start at 0 and count exactly")
    func poolMetrics() throws {
        let registry = makeRegistry()
        let metrics = PoolMetrics(registry: registry)
        var exposition = try registry.parsed()
        for state in ["idle", "in_use", "waiting", "max"] {
            #expect(exposition.value("slotworker_db_pool_connections", ["state": state]) == 0)
        }
        for event in PostgresPoolEvent.allCases {
            #expect(exposition.value("slotworker_db_pool_errors_total", ["event": event.rawValue]) == 0)
        }
        let statistics = Mutex(PostgresPoolStatistics(idle: 3, inUse: 2, waiting: 1, maxConnections: 10))
        metrics.setStatisticsSource { statistics.withLock { $0 } }
        metrics.didAcquire(wait: .zero)
        metrics.didAcquire(wait: .milliseconds(30))
        metrics.didRecord(.acquireTimeout)
        metrics.didRecord(.acquireTimeout)
        metrics.didRecord(.connectionBroken)
        exposition = try registry.parsed()
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "idle"]) == 3)
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "in_use"]) == 2)
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "waiting"]) == 1)
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "max"]) == 10)
        #expect(exposition.value("slotworker_db_pool_errors_total", ["event": "acquire_timeout"]) == 2)
        #expect(exposition.value("slotworker_db_pool_errors_total", ["event": "connection_broken"]) == 1)
        #expect(exposition.value("slotworker_db_pool_errors_total", ["event": "connect_failed"]) == 0)
        #expect(exposition.value("slotworker_db_pool_acquire_wait_seconds_count") == 2)
        #expect(exposition.value("slotworker_db_pool_acquire_wait_seconds_bucket", ["le": "0.0001"]) == 1)
        #expect(exposition.value("slotworker_db_pool_acquire_wait_seconds_bucket", ["le": "0.025"]) == 1)
        #expect(exposition.value("slotworker_db_pool_acquire_wait_seconds_bucket", ["le": "0.05"]) == 2)

        statistics.withLock { $0 = PostgresPoolStatistics(idle: 0, inUse: 10, waiting: 7, maxConnections: 10) }
        exposition = try registry.parsed()
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "in_use"]) == 10)
        #expect(exposition.value("slotworker_db_pool_connections", ["state": "waiting"]) == 7)
    }

    /// Reading a closure stored directly as a `Mutex` value wrapped it in two more thunks on every scrape (see
    /// `PoolMetrics.source`): after n scrapes a refresh called through 2n nested frames. On a thread with a 256 KiB
    /// stack, 20,000 refreshes would need megabytes of stack and crash; bounded depth needs a few hundred bytes.
    @Test("refreshing the pool gauges does not grow with the number of scrapes (no thunk chain)")
    func refreshDepthStaysBounded() {
        let registry = makeRegistry()
        let metrics = PoolMetrics(registry: registry)
        metrics.setStatisticsSource { PostgresPoolStatistics(idle: 1, inUse: 2, waiting: 0, maxConnections: 3) }
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<20_000 { metrics.refresh() }
            finished.signal()
        }
        thread.stackSize = 256 * 1024
        thread.start()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect((try? registry.parsed().value("slotworker_db_pool_connections", ["state": "in_use"])) == 2)
    }

    @Test("process metrics are present with plausible values")
    func processMetrics() throws {
        let registry = makeRegistry()
        _ = ProcessMetrics(registry: registry, minimumInterval: .zero)
        // Burn a little CPU so the counter is above zero.
        var accumulator = 0.0
        for index in 0..<3_000_000 { accumulator += sin(Double(index)) }
        #expect(accumulator.isFinite)
        let exposition = try registry.parsed()
        let now = Date().timeIntervalSince1970
        let start = try #require(exposition.value("process_start_time_seconds"))
        #expect(start > now - 86_400 && start <= now + 1)
        let resident = try #require(exposition.value("process_resident_memory_bytes"))
        let virtual = try #require(exposition.value("process_virtual_memory_bytes"))
        #expect(resident > 1_000_000)
        #expect(virtual >= resident)
        let open = try #require(exposition.value("process_open_fds"))
        let maximum = try #require(exposition.value("process_max_fds"))
        #expect(open >= 3)
        #expect(maximum >= open)
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(maximum == Double(limit.rlim_cur))
        let cpu = try #require(exposition.value("process_cpu_seconds_total"))
        #expect(cpu > 0 && cpu < 100_000)
        // The CPU counter never goes backwards between scrapes.
        let later = try #require(try registry.parsed().value("process_cpu_seconds_total"))
        #expect(later >= cpu)
    }

    @Test("scrapes within the minimum interval share one reading of /proc; the next one after it reads again")
    func processMetricsAreReadAtMostOncePerInterval() throws {
        let registry = makeRegistry()
        let metrics = ProcessMetrics(registry: registry, minimumInterval: .seconds(3600))
        let before = try #require(try registry.parsed().value("process_open_fds"))
        var pipes: [[Int32]] = []
        for _ in 0..<100 {
            var ends: [Int32] = [0, 0]
            #expect(pipe(&ends) == 0)
            pipes.append(ends)
        }
        defer { for ends in pipes { close(ends[0]); close(ends[1]) } }
        // Within the interval: the reading at init is reused, so the 200 new descriptors do not show yet (other
        // tests of the process open and close some meanwhile: the bounds leave room for them).
        #expect(try registry.parsed().value("process_open_fds") == before)
        metrics.refresh(at: .now + .seconds(3601))
        let after = try #require(try registry.parsed().value("process_open_fds"))
        #expect(after >= before + 100, "open descriptors \(before) → \(after)")
    }

    @Test("/proc files are parsed: stat after the last parenthesis, btime")
    func parsers() throws {
        let fields = (3...52).map { "\($0)" }.joined(separator: " ")
        let stat = try #require(parseStat("4242 (weird) name (x)) " + fields + "\n"))
        #expect(
            stat
                == ProcessMetrics.Stat(
                    userTicks: 14, systemTicks: 15, startTicks: 22, virtualBytes: 23, residentPages: 24)
        )
        #expect(parseStat("garbage") == nil)
        #expect(parseStat("1 (x) S 1 2 3\n") == nil)
        let notNumber = (3...52).map { $0 == 23 ? "12x" : "\($0)" }.joined(separator: " ")
        #expect(parseStat("1 (x) " + notNumber) == nil)
        let file = open("/proc/self/stat", O_RDONLY)
        defer { close(file) }
        for _ in 0..<2 {  // read again from the start, as every refresh does
            let own = try #require(ProcessMetrics.readStat(file))
            #expect(own.residentPages > 0 && own.virtualBytes > own.residentPages && own.startTicks > 0)
        }
        #expect(ProcessMetrics.readStat(-1) == nil)
        #expect(ProcessMetrics.parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n") == 1_700_000_000)
    }
}

/// ``ProcessMetrics/parseStat(_:)`` on a string.
private func parseStat(_ text: String) -> ProcessMetrics.Stat? {
    Array(text.utf8).withUnsafeBufferPointer(ProcessMetrics.parseStat)
}
