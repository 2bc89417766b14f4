import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization

/// `queue-sustained [--rate JOBS_PER_S] [--seconds S] [--hold-from S] [--hold-seconds S] [--runs clean,held]
/// [--drain-jobs N] [--worker-concurrency N]`: production-shaped load on one `slot-worker run` process (the real binary from
/// `SLOT_WORKER_BINARY`, shipped default configuration) against a stock server.
///
/// Without `--rate`, the shipped drain rate is measured first (`slot-worker run --exit-when-idle` on N pre-enqueued
/// `noop` jobs, first claim to last completion, read from the database) and the producer runs at half of it. Each
/// run (`clean`, `held`) gets a fresh database; a producer inserts `noop` jobs at the rate (bulk inserts every
/// 20 ms, catching up when late) for `--seconds`; the `held` run also holds one REPEATABLE READ transaction open
/// from `--hold-from` for `--hold-seconds` (it has read a table, so its snapshot pins the xmin horizon, as a
/// `pg_dump` or a long report does).
///
/// Every 10 s a line on stderr reports the window ten seconds back (completions are counted once their batch
/// committed): offered, completed, backlog (inserted − succeeded), p50/p99 due→claimed of the jobs completed in
/// it, and the queue table's dead tuples, heap, index and claim-index sizes now.
///
/// Figures per run: `queue-sustained-RUN` (completed/s vs offered/s over the run), `…-worst-window` (the worst
/// window after the first minute, or in the hold for `held`), `…-p99` (worst window p99 due→claimed, ms; baseline
/// the goal: 100 ms clean, 1,000 ms held), `…-late-percent` (the share of the same windows' completions that
/// waited longer than that goal: the judged span's own p99 is within the goal exactly when it is ≤ 1, its baseline;
/// each window's line shows its count as `late`), `…-claim-index-growth` (claim index size at the end vs after the first
/// minute), and for `held` `…-recovery` (seconds from release until a window completes ≥ 99% of its offered
/// load with the backlog under one second of it; baseline 60; ratio 0 when it did not recover before the run ended).
/// Beside the drain rate of the shipped defaults (`queue-drain-shipped-default`, goal 40,000 jobs/s) it reports the
/// best single-process configuration seen, `--concurrency 1000` (`queue-drain-concurrency-1000`, baseline: the
/// shipped default's rate in the same run).
enum QueueSustainedBench {
    static let databaseName = "slotworker_bench_queue_sustained"
    static let window = 10.0

    struct Window {
        var start: Double
        var offered: Int
        var completed: Int
        var backlog: Int
        var p50: Double
        var p99: Double
        /// Completions whose due→claimed wait exceeded the run's p99 goal (``lateAfter(hold:)``).
        var late: Int
        var deadTuples: Int
        var heapBytes: Int
        var indexBytes: Int
        var claimIndexBytes: Int
        var ratio: Double { offered > 0 ? Double(completed) / Double(offered) : 1 }
    }

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        guard let binary = ProcessInfo.processInfo.environment["SLOT_WORKER_BINARY"], !binary.isEmpty else {
            throw BenchFailure("queue-sustained: SLOT_WORKER_BINARY is not set (use scripts/bench)")
        }
        let seconds = arguments.int("seconds", default: 600)
        let holdFrom = arguments.int("hold-from", default: 120)
        let holdSeconds = arguments.int("hold-seconds", default: 300)
        // The sustained runs' worker: shipped defaults, or `--worker-concurrency N` (to load the held snapshot at
        // rates beyond the shipped drain; the headline runs leave it out).
        var workerArguments: [String] = []
        if let value = arguments.values["worker-concurrency"] {
            guard let concurrency = Int(value), concurrency > 0 else {
                throw BenchFailure("queue-sustained: --worker-concurrency must be a positive integer, not \"\(value)\"")
            }
            workerArguments = ["--concurrency", String(concurrency)]
        }
        let runs = (arguments.values["runs"] ?? "clean,held").split(separator: ",").map(String.init)
        for run in runs where run != "clean" && run != "held" {
            throw BenchFailure("queue-sustained: unknown run \"\(run)\" (known: clean, held)")
        }
        var rate = arguments.double("rate") ?? 0
        if rate <= 0 {
            let jobs = arguments.int("drain-jobs", default: 100_000)
            let drain = try await shippedDrain(jobs: jobs, binary: binary, server: server)
            BenchFigure(bench: "queue-drain-shipped-default", value: drain, unit: "jobs/s", baseline: 40_000).print()
            // The best single-process configuration seen, beside the headline (baseline: the shipped default).
            let best = try await shippedDrain(
                jobs: jobs, binary: binary, server: server, extraArguments: ["--concurrency", "1000"])
            BenchFigure(bench: "queue-drain-concurrency-1000", value: best, unit: "jobs/s", baseline: drain).print()
            rate = (drain / 2).rounded()
        }
        for run in runs {
            let hold = run == "held" ? (from: Double(holdFrom), seconds: Double(holdSeconds)) : nil
            let windows = try await sustained(
                run: run, rate: rate, seconds: Double(seconds), hold: hold, binary: binary, server: server,
                workerArguments: workerArguments)
            report(run: run, windows: windows, hold: hold)
        }
    }

    // MARK: - Shipped drain rate

    /// Jobs/s of `slot-worker run --exit-when-idle` (defaults, plus `extraArguments`) on `jobs` pre-enqueued noop
    /// jobs, from the first claim to the last completion (`label` prefixes the log lines).
    static func shippedDrain(
        jobs: Int, binary: String, server: PostgresConfiguration, extraArguments: [String] = [],
        label: String = "queue-sustained"
    ) async throws -> Double {
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let setup = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 2)),
            logger: QueueBench.logger)
        try await QueueBench.enqueueNoops(jobs, database: setup)
        let options = (["--exit-when-idle"] + extraArguments).joined(separator: " ")
        QueueBench.log("\(label): draining \(jobs) noop jobs with slot-worker run (defaults) \(options)")
        let worker = try WorkerBinary(
            binary, database: databaseName, server: server, exitWhenIdle: true, extraArguments: extraArguments)
        let status = await worker.wait(limit: .seconds(300))
        let row = try await setup.pool.query(
            """
            SELECT count(*) FILTER (WHERE state = 'succeeded') AS done,
                extract(epoch FROM max(finished_at) - min(attempted_at))::float8 AS span
            FROM jobs WHERE kind = 'noop'
            """
        )[0]
        let done: Int = try row.decode("done")
        let span: Double = try row.decode("span", as: Double?.self) ?? 0
        await setup.pool.close()
        await QueueBench.dropDatabase(databaseName, server: server)
        guard status == 0, done == jobs, span > 0 else {
            throw BenchFailure(
                "\(label): the drain ended with status \(status), \(done) of \(jobs) succeeded; "
                    + "worker log: \(worker.logTail())")
        }
        let rate = Double(jobs) / span
        QueueBench.log(String(format: "%@: %@ drains %.0f jobs/s (%.2f s)", label, options, rate, span))
        return rate
    }

    // MARK: - One sustained run

    static func sustained(
        run: String,
        rate: Double,
        seconds: Double,
        hold: (from: Double, seconds: Double)?,
        binary: String,
        server: PostgresConfiguration,
        workerArguments: [String]
    ) async throws -> [Window] {
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let monitor = PostgresPool(configuration: configuration, options: .init(maxConnections: 1))
        let producerDatabase = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 2)),
            logger: QueueBench.logger)
        let holdText = hold.map { String(format: ", snapshot held from %.0f s for %.0f s", $0.from, $0.seconds) } ?? ""
        QueueBench.log(
            String(
                format: "queue-sustained %@: %.0f jobs/s for %.0f s%@, slot-worker run %@", run, rate, seconds,
                holdText, workerArguments.isEmpty ? "(shipped defaults)" : workerArguments.joined(separator: " ")))
        let worker = try WorkerBinary(
            binary, database: databaseName, server: server, exitWhenIdle: false, extraArguments: workerArguments)
        defer { worker.stop() }
        try await Task.sleep(for: .seconds(2))  // the worker connects and migrates nothing (already applied)

        // The monitor's per-window read of up to 200,000 completions would otherwise run as a parallel query, two
        // more processes busy on the cores the worker runs on for most of a second every window. Its one
        // connection keeps the setting.
        _ = try await monitor.query("SET max_parallel_workers_per_gather = 0")
        let offered = OfferedLog()
        let origin: Double = try await monitor.query("SELECT extract(epoch FROM now())::float8 AS t")[0].decode("t")
        let start = ContinuousClock.now
        var windows: [Window] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await produce(rate: rate, seconds: seconds, into: producerDatabase, log: offered, start: start)
            }
            if let hold {
                group.addTask {
                    try await holdSnapshot(
                        configuration: configuration, from: hold.from, seconds: hold.seconds, start: start)
                }
            }
            // Window k is reported once window k + 1 ended (its completions are committed by then).
            var reported = 0
            var completedBefore = 0
            let total = Int((seconds / window).rounded(.up))
            while reported < total {
                let due = start + .seconds(window * Double(reported + 2)) + .milliseconds(300)
                try await Task.sleep(until: due)
                let window = try await measure(
                    index: reported, origin: origin, offered: offered, completedBefore: completedBefore,
                    lateAfter: lateAfter(hold: hold), monitor: monitor)
                completedBefore += window.completed
                windows.append(window)
                QueueBench.log(describe(window, run: run, hold: hold))
                reported += 1
            }
            try await group.waitForAll()
        }
        if worker.hasExited {
            QueueBench.log("queue-sustained: the worker exited early; log: \(worker.logTail())")
        }
        worker.stop()
        await producerDatabase.pool.close()
        await monitor.close()
        await QueueBench.dropDatabase(databaseName, server: server)
        return windows
    }

    /// Inserts `noop` jobs at `rate` per second for `seconds`, in bulk statements every 20 ms (catching up, up to
    /// 20,000 per statement, when a statement was slow). Logs each insert's count at its commit.
    static func produce(
        rate: Double, seconds: Double, into database: Database, log: OfferedLog, start: ContinuousClock.Instant
    ) async throws {
        let client = JobQueueClient(database: database)
        let end = start + .seconds(seconds)
        var produced = 0
        var tick = start
        while ContinuousClock.now < end {
            let elapsed = (ContinuousClock.now - start).seconds
            let due = min(Int(rate * elapsed), Int(rate * seconds)) - produced
            if due > 0 {
                let count = min(due, 20_000)
                _ = try await client.enqueue([NewJob](repeating: NewJob(kind: "noop"), count: count)).get()
                produced += count
                log.add(count, at: (ContinuousClock.now - start).seconds)
            }
            tick += .milliseconds(20)
            if tick > ContinuousClock.now { try await Task.sleep(until: tick) } else { tick = ContinuousClock.now }
        }
    }

    /// Opens a REPEATABLE READ transaction at `from` seconds, reads a table (taking its snapshot), keeps it open for
    /// `seconds`, then commits.
    static func holdSnapshot(
        configuration: PostgresConfiguration, from: Double, seconds: Double, start: ContinuousClock.Instant
    ) async throws {
        try await Task.sleep(until: start + .seconds(from))
        let connection = try await PostgresConnection.connect(configuration)
        try await connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _ = try await connection.query("SELECT count(*) AS n FROM periodic_runs")
        QueueBench.log("queue-sustained: REPEATABLE READ snapshot taken")
        try await Task.sleep(until: start + .seconds(from + seconds))
        try await connection.execute("COMMIT")
        await connection.close()
        QueueBench.log("queue-sustained: snapshot released")
    }

    /// Window `index`'s figures (completions and latencies from the jobs completed in it; the backlog at its end from
    /// the offered count and `completedBefore`, the completions of the windows before) and the table's sizes now.
    /// Only the window's own completions are read (a range of `jobs_finished_idx`): a count of every finished job
    /// would cost the machine more each window, on the cores the worker runs on.
    static func measure(
        index: Int, origin: Double, offered: OfferedLog, completedBefore: Int, lateAfter: Double,
        monitor: PostgresPool
    ) async throws -> Window {
        let from = origin + Double(index) * window
        let row = try await monitor.query(
            """
            WITH done AS (
                SELECT extract(epoch FROM attempted_at - run_at)::float8 AS wait FROM jobs
                WHERE state = 'succeeded' AND kind = 'noop' AND finished_at >= to_timestamp($1::float8)
                    AND finished_at < to_timestamp($1::float8 + $2::float8)
            )
            SELECT (SELECT count(*) FROM done) AS completed,
                (SELECT count(*) FROM done WHERE wait > $3::float8 / 1000) AS late,
                coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY wait) FROM done), 0)::float8 AS p50,
                coalesce((SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY wait) FROM done), 0)::float8 AS p99,
                coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'jobs'::regclass), 0) AS dead,
                pg_table_size('jobs') AS heap, pg_indexes_size('jobs') AS indexes,
                pg_relation_size('jobs_claim_idx') AS claim_index
            """,
            [from, window, lateAfter]
        )[0]
        let windowStart = Double(index) * window
        let completed: Int = try row.decode("completed")
        return Window(
            start: windowStart,
            offered: offered.count(from: windowStart, to: windowStart + window),
            completed: completed,
            backlog: offered.count(from: 0, to: windowStart + window) - completedBefore - completed,
            p50: try row.decode("p50") * 1000,
            p99: try row.decode("p99") * 1000,
            late: try row.decode("late"),
            deadTuples: try row.decode("dead"),
            heapBytes: try row.decode("heap"),
            indexBytes: try row.decode("indexes"),
            claimIndexBytes: try row.decode("claim_index")
        )
    }

    /// The p99 goal of a run, in ms: 100 for the clean run, 1,000 for the held one.
    static func lateAfter(hold: (from: Double, seconds: Double)?) -> Double { hold == nil ? 100 : 1000 }

    static func describe(_ window: Window, run: String, hold: (from: Double, seconds: Double)?) -> String {
        let held = hold.map { window.start + Self.window > $0.from && window.start < $0.from + $0.seconds } ?? false
        return String(
            format:
                "%@ t=%3.0f-%3.0fs%@ offered %6d completed %6d (%.3f) backlog %7d due→claimed p50 %.1f ms p99 %.1f ms"
                + " late %d"
                + " | dead tuples %8d heap %.1f MB indexes %.1f MB claim index %.2f MB",
            run, window.start, window.start + Self.window, held ? " HELD" : "", window.offered, window.completed,
            window.ratio, window.backlog, window.p50, window.p99, window.late, window.deadTuples,
            Double(window.heapBytes) / 1e6, Double(window.indexBytes) / 1e6, Double(window.claimIndexBytes) / 1e6
        )
    }

    static func report(run: String, windows: [Window], hold: (from: Double, seconds: Double)?) {
        guard !windows.isEmpty else { return }
        let span = Double(windows.count) * window
        let offered = windows.reduce(0) { $0 + $1.offered }
        let completed = windows.reduce(0) { $0 + $1.completed }
        BenchFigure(
            bench: "queue-sustained-\(run)", value: Double(completed) / span, unit: "jobs/s",
            baseline: Double(offered) / span
        ).print()
        // Judged windows: after the first minute (clean), or overlapping the hold (held).
        let judged = windows.filter { window in
            if let hold { return window.start + Self.window > hold.from && window.start < hold.from + hold.seconds }
            return window.start >= 60
        }
        if let worst = (judged.isEmpty ? windows : judged).min(by: { $0.ratio < $1.ratio }) {
            QueueBench.log(String(format: "queue-sustained %@: worst judged window at %.0f s", run, worst.start))
            BenchFigure(
                bench: "queue-sustained-\(run)-worst-window", value: Double(worst.completed) / Self.window,
                unit: "jobs/s", baseline: Double(worst.offered) / Self.window
            ).print()
        }
        let judgedOrAll = judged.isEmpty ? windows : judged
        let p99 = judgedOrAll.map(\.p99).max() ?? 0
        BenchFigure(
            bench: "queue-sustained-\(run)-p99", value: p99, unit: "ms", baseline: lateAfter(hold: hold),
            higherIsBetter: false
        ).print()
        // The judged span's own p99 is within the goal exactly when at most 1% of its completions waited longer.
        let late = judgedOrAll.reduce(0) { $0 + $1.late }
        let judgedCompleted = judgedOrAll.reduce(0) { $0 + $1.completed }
        BenchFigure(
            bench: "queue-sustained-\(run)-late-percent", value: 100 * Double(late) / Double(max(judgedCompleted, 1)),
            unit: "%", baseline: 1, higherIsBetter: false
        ).print()
        if let first = windows.first(where: { $0.start >= 60 }), let last = windows.last, first.claimIndexBytes > 0 {
            BenchFigure(
                bench: "queue-sustained-\(run)-claim-index-growth", value: Double(last.claimIndexBytes) / 1e6,
                unit: "MB", baseline: Double(first.claimIndexBytes) / 1e6, higherIsBetter: false
            ).print()
        }
        if let hold {
            let release = hold.from + hold.seconds
            let recovered = windows.first { window in
                window.start >= release && window.ratio >= 0.99
                    && Double(window.backlog) < Double(window.offered) / Self.window
            }
            let seconds = recovered.map { $0.start + Self.window - release } ?? (span - release)
            var figure = BenchFigure(
                bench: "queue-sustained-\(run)-recovery", value: max(seconds, 0.001), unit: "s", baseline: 60,
                higherIsBetter: false)
            if recovered == nil { figure.ratio = 0 }  // not recovered within the run: `value` is a lower bound
            figure.print()
            if recovered == nil { QueueBench.log("queue-sustained \(run): did not recover before the run ended") }
        }
    }
}

/// Inserted job counts by time (seconds since the producer's start), for offered-per-window figures.
final class OfferedLog: Sendable {
    private let entries = Mutex<[(at: Double, count: Int)]>([])

    func add(_ count: Int, at time: Double) { entries.withLock { $0.append((time, count)) } }

    func count(from: Double, to: Double) -> Int {
        entries.withLock { $0.reduce(0) { $1.at >= from && $1.at < to ? $0 + $1.count : $0 } }
    }
}

/// One `slot-worker run` process with the shipped defaults (HTTP on a free port, warnings only), its output in a
/// temporary log file.
final class WorkerBinary: Sendable {
    private let process: Process
    private let logPath: String

    init(
        _ binary: String, database: String, server: PostgresConfiguration, exitWhenIdle: Bool,
        extraArguments: [String] = []
    ) throws {
        logPath = NSTemporaryDirectory() + "slotworker-bench-worker-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--http-port", "0"] + (exitWhenIdle ? ["--exit-when-idle"] : []) + extraArguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLOT_WORKER_") }
        var url = environment["DATABASE_URL"] ?? ""
        url = Self.replacingDatabase(in: url, with: database)
        environment["DATABASE_URL"] = url
        environment["SLOT_WORKER_LOG_LEVEL"] = "warning"
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
    }

    /// `postgresql://…/OLD?query` with its database replaced.
    static func replacingDatabase(in url: String, with database: String) -> String {
        let parts = url.split(separator: "?", maxSplits: 1).map(String.init)
        guard let base = parts.first, let slash = base.lastIndex(of: "/") else { return url }
        let query = parts.count > 1 ? "?" + parts[1] : ""
        return String(base[..<slash]) + "/" + database + query
    }

    var hasExited: Bool { !process.isRunning }

    /// Waits for the exit (polling) up to `limit`; returns the exit status (-1 if it had to be killed).
    func wait(limit: Duration) async -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            return -1
        }
        return process.terminationStatus
    }

    /// SIGKILL (the bench needs no graceful stop) and waits until the process is gone.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(20_000) }
    }

    func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return String(text.suffix(2000))
    }
}
