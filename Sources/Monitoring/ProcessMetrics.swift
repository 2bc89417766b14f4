import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The standard `process_*` metrics every official Prometheus client exports on Linux, read from `/proc` in a
/// pre-scrape hook of the registry:
///
/// | metric | source |
/// |---|---|
/// | `process_cpu_seconds_total` | `/proc/self/stat` utime + stime ÷ clock ticks |
/// | `process_resident_memory_bytes` | `/proc/self/stat` rss × page size |
/// | `process_virtual_memory_bytes` | `/proc/self/stat` vsize |
/// | `process_start_time_seconds` | `/proc/self/stat` starttime ÷ clock ticks + `btime` of `/proc/stat` |
/// | `process_open_fds` | entries of `/proc/self/fd` |
/// | `process_max_fds` | soft `RLIMIT_NOFILE` (`getrlimit(2)`, the "Max open files" of `/proc/self/limits`) |
///
/// On systems without `/proc` the values stay 0. A refresh costs a few system calls and never blocks on anything but
/// procfs, yet listing `/proc/self/fd` and formatting `/proc/self/stat` are most of the kernel's work for a scrape
/// (about a quarter of the CPU of each `/metrics` answer under `wrk`, measured with perf), so the values are read at
/// most once per `minimumInterval` (default 1 s, against Prometheus's 15 s between scrapes): scrapes closer together
/// share one reading.
public final class ProcessMetrics: Sendable {
    /// The fields of `/proc/<pid>/stat` this type uses.
    struct Stat: Equatable {
        var userTicks: Int
        var systemTicks: Int
        var startTicks: Int
        var virtualBytes: Int
        var residentPages: Int
    }

    private let cpuSeconds: Counter
    private let residentBytes: Gauge
    private let virtualBytes: Gauge
    private let startTime: Gauge
    private let openFDs: Gauge
    private let maxFDs: Gauge
    /// CPU seconds already added to the counter (the counter only moves forward by the difference).
    private let reportedCPUSeconds = Mutex<Double>(0)
    private let ticksPerSecond: Double
    /// `/proc/self/stat` (-1 when it cannot be opened) and `/proc/self/fd`, opened once and re-read per refresh: on
    /// this machine kind opening a procfs file costs 30–50 µs, several times what reading it again costs.
    private let statFile = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
    private let descriptorDirectory = Mutex<OpaquePointer?>(opendir("/proc/self/fd"))
    private let pageSize: Double
    /// Scrapes within this long of the last reading reuse it.
    private let minimumInterval: Duration
    /// When `/proc` was last read.
    private let lastRefresh = Mutex<ContinuousClock.Instant?>(nil)

    /// Defines the metrics in `registry`, reads them once and refreshes them before every scrape that comes
    /// `minimumInterval` or more after the last reading.
    public init(registry: MetricsRegistry, minimumInterval: Duration = .seconds(1)) {
        self.minimumInterval = minimumInterval
        self.cpuSeconds = registry.counter(
            "process_cpu_seconds_total",
            help: "Total user and system CPU time spent in seconds."
        )
        self.residentBytes = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.")
        self.virtualBytes = registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        self.startTime = registry.gauge(
            "process_start_time_seconds",
            help: "Start time of the process since unix epoch in seconds."
        )
        self.openFDs = registry.gauge("process_open_fds", help: "Number of open file descriptors.")
        self.maxFDs = registry.gauge("process_max_fds", help: "Maximum number of open file descriptors.")
        self.ticksPerSecond = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        self.pageSize = Double(max(sysconf(Int32(_SC_PAGESIZE)), 1))

        if let stat = Self.readStat(self.statFile),
            let bootTime = Self.readProcFile("/proc/stat").flatMap(Self.parseBootTime)
        {
            self.startTime.set(to: Double(bootTime) + Double(stat.startTicks) / self.ticksPerSecond)
        }
        self.refresh()
        registry.addPreScrapeHook { [self] in self.refresh() }
    }

    /// Reads `/proc` and updates the metrics (the pre-scrape hook calls it), unless the last reading is less than
    /// `minimumInterval` before `now`.
    package func refresh(at now: ContinuousClock.Instant = .now) {
        let due = lastRefresh.withLock { last -> Bool in
            if let last, now - last < minimumInterval { return false }
            last = now
            return true
        }
        guard due else { return }
        if let stat = Self.readStat(self.statFile) {
            let total = Double(stat.userTicks + stat.systemTicks) / self.ticksPerSecond
            self.reportedCPUSeconds.withLock { reported in
                if total > reported {
                    self.cpuSeconds.increment(by: total - reported)
                    reported = total
                }
            }
            self.residentBytes.set(to: Double(stat.residentPages) * self.pageSize)
            self.virtualBytes.set(to: Double(stat.virtualBytes))
        }
        if let open = self.descriptorDirectory.withLock({ $0.map(Self.countEntries) }) {
            self.openFDs.set(to: Double(open))
        }
        if let limit = Self.maxOpenFiles() {
            self.maxFDs.set(to: Double(limit))
        }
    }

    /// Parses `/proc/<pid>/stat` without allocating. The fields are read after the last `)`, because the command name
    /// in field 2 may contain spaces and parentheses.
    static func parseStat(_ bytes: UnsafeBufferPointer<UInt8>) -> Stat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Field 3 (state) is the first one after the `)`; the wanted ones are numbers (14, 15, 22, 23, 24), -1
        // while missing or not a number.
        var stat = Stat(userTicks: -1, systemTicks: -1, startTicks: -1, virtualBytes: -1, residentPages: -1)
        var field = 2
        var position = close + 1
        func isSeparator(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") }
        while field < 24 {
            while position < bytes.count, isSeparator(bytes[position]) { position += 1 }
            guard position < bytes.count else { break }
            field += 1
            var value: Int? = 0
            while position < bytes.count, !isSeparator(bytes[position]) {
                let digit = bytes[position] &- UInt8(ascii: "0")
                if let current = value, digit <= 9, current <= (Int.max - 9) / 10 {
                    value = current * 10 + Int(digit)
                } else {
                    value = nil
                }
                position += 1
            }
            let number = value ?? -1
            switch field {
            case 14: stat.userTicks = number
            case 15: stat.systemTicks = number
            case 22: stat.startTicks = number
            case 23: stat.virtualBytes = number
            case 24: stat.residentPages = number
            default: break
            }
        }
        let complete =
            stat.userTicks >= 0 && stat.systemTicks >= 0 && stat.startTicks >= 0 && stat.virtualBytes >= 0
            && stat.residentPages >= 0
        return complete ? stat : nil
    }

    /// Reads (again, from its start) and parses an open `/proc/<pid>/stat` into a stack buffer (the line is a few
    /// hundred bytes); nil for a descriptor of -1.
    static func readStat(_ file: Int32) -> Stat? {
        guard file >= 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> Stat? in
            var count: Int
            repeat { count = pread(file, buffer.baseAddress, buffer.count, 0) } while count < 0 && errno == EINTR
            guard count > 0 else { return nil }
            return Self.parseStat(UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Parses the `btime` line (boot time, seconds since the epoch) of `/proc/stat`.
    static func parseBootTime(_ text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int(line.dropFirst("btime ".count).trimmingSpaces())
        }
        return nil
    }

    /// The soft limit on open files (nil when unlimited, `RLIM_INFINITY`, or unknown).
    static func maxOpenFiles() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// Reads a whole (procfs) file; procfs reports size 0, so it reads until end of file.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// Counts the entries of an open directory other than `.` and `..`, reading it again from its start (its own
    /// descriptor is among them, as in the official clients, which count while their directory is open).
    static func countEntries(_ directory: OpaquePointer) -> Int {
        rewinddir(directory)
        var count = 0
        while let entry = readdir(directory) {
            let isDotEntry = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".")
                    && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDotEntry { count += 1 }
        }
        return count
    }

    deinit {
        if self.statFile >= 0 { close(self.statFile) }
        self.descriptorDirectory.withLock { directory in
            if let directory { closedir(directory) }
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result.removeFirst() }
        while result.last == " " || result.last == "\t" || result.last == "\r" { result.removeLast() }
        return result
    }
}
