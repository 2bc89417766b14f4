// swift-tools-version: 6.2
import PackageDescription

// Every Swift target (tests too): imports are internal unless written `public import`, and a file sees only the
// members of modules it imports itself. scripts/test also builds with
// `--explicit-target-dependency-import-check error`, so every import is a declared dependency.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The git revision in `slotworker_build_info`: scripts/test, scripts/bench and scripts/demo export
/// `SLOT_WORKER_GIT_REVISION` (from `git rev-parse`); a plain `swift build` reports "unknown". Only hex digits are
/// taken, so the value is always a safe C string literal.
let gitRevision: String = {
    let raw = Context.environment["SLOT_WORKER_GIT_REVISION"] ?? ""
    let hex = raw.lowercased().filter { "0123456789abcdef".contains($0) }
    return hex.isEmpty || hex.count > 40 || hex.count != raw.count ? "unknown" : hex
}()

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")

let package = Package(
    name: "SlotWorker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slot-worker", targets: ["SlotWorkerCLI"]),
        .executable(name: "slot-worker-bench", targets: ["SlotWorkerBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
    ],
    targets: [
        // C interop: libpq and libmicrohttpd, found through pkg-config.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The build's git revision as a C string (a C define can carry a value; a Swift one cannot).
        .target(name: "CBuildInfo", cSettings: [.define("SLOTWORKER_GIT_REVISION", to: "\"\(gitRevision)\"")]),
        // Linux epoll(7) (part of libc), for the PostgreSQL client's socket poller.
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // zlib, for gzip-encoded HTTP responses.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // The graph reads top-down (README, "Layout"): executables → SlotWorkerApp → MonitoringAdapters, Tasks,
        // Services → JobQueue, Repositories → Persistence → PostgresClient. Monitoring and HTTPServer are leaves that
        // only MonitoringAdapters and the app connect to the rest. Lower modules own small observer protocols
        // (PostgresPoolObserver, RepositoryObserver, JobQueueObserver) and never import Prometheus, Monitoring or
        // HTTPServer.

        // PostgreSQL client over libpq: connections, pool, typed rows, LISTEN/NOTIFY.
        .target(
            name: "PostgresClient",
            dependencies: ["CLibPQ", "CEpoll", logging],
            swiftSettings: swiftSettings
        ),
        // Persistence core: Result helpers, RepositoryError, generic repository, Unit of Work, migrator.
        .target(
            name: "Persistence",
            dependencies: ["PostgresClient", logging],
            swiftSettings: swiftSettings
        ),
        // Domain: plain value types of the recruiting backend.
        .target(name: "Domain", swiftSettings: swiftSettings),
        // Schema: the versioned SQL migrations of the whole database.
        .target(name: "Schema", dependencies: ["Persistence"], swiftSettings: swiftSettings),
        // Repositories: concrete repositories of the domain entities.
        .target(
            name: "Repositories",
            dependencies: ["Persistence", "Domain", "PostgresClient"],
            swiftSettings: swiftSettings
        ),
        // Monitoring (a leaf): the Prometheus registry, histograms, process metrics, build info and health state.
        .target(
            name: "Monitoring",
            dependencies: [prometheus, logging],
            swiftSettings: swiftSettings
        ),
        // HTTPServer (a leaf): a small libmicrohttpd server run as a service.
        .target(
            name: "HTTPServer",
            dependencies: ["CMicroHTTPD", "CZlib", logging, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        // JobQueue: the PostgreSQL-backed job queue, its runner, rescuer, scheduler and pruner; reports through
        // JobQueueObserver only.
        .target(
            name: "JobQueue",
            dependencies: ["PostgresClient", "Persistence", logging, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        // Services: the application's use cases (book a slot, create a recruiter, ...) in one unit of work each.
        .target(
            name: "Services",
            dependencies: ["Persistence", "Repositories", "Domain"],
            swiftSettings: swiftSettings
        ),
        // Tasks: job handlers of the domain (release lapsed reservations, expire slots, send reminders).
        .target(
            name: "Tasks",
            dependencies: [
                "PostgresClient", "Persistence", "Repositories", "Domain", "JobQueue", logging, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // Console: the operator's web console (server-rendered HTML at /ui on the monitoring server).
        .target(
            name: "Console",
            dependencies: ["HTTPServer", "JobQueue", "PostgresClient", logging],
            swiftSettings: swiftSettings
        ),
        // MonitoringAdapters (the top adapter layer): the observers of pool, repositories and job queue as
        // Prometheus metrics, the job queue's health mapping, HTTP request metrics and the monitoring endpoints.
        .target(
            name: "MonitoringAdapters",
            dependencies: [
                "Monitoring", "HTTPServer", "JobQueue", "Persistence", "PostgresClient", "Domain", "Tasks", prometheus,
            ],
            swiftSettings: swiftSettings
        ),
        // SlotWorkerApp: configuration, logging and metrics bootstrap, and the wiring of services for the executable.
        .target(
            name: "SlotWorkerApp",
            dependencies: [
                "PostgresClient", "Persistence", "Domain", "Schema", "Repositories", "JobQueue", "Services", "Tasks",
                "Monitoring", "MonitoringAdapters", "HTTPServer", "CBuildInfo", "Console", logging, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `slot-worker` executable: parses arguments only, then hands over to SlotWorkerApp.
        .executableTarget(
            name: "SlotWorkerCLI",
            dependencies: [
                "SlotWorkerApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `slot-worker-bench`, run by scripts/bench.
        .executableTarget(
            name: "SlotWorkerBench",
            dependencies: [
                "PostgresClient", "Persistence", "Schema", "Repositories", "JobQueue", "Tasks", "Domain", "Monitoring",
                "MonitoringAdapters", "HTTPServer", "SlotWorkerApp", "Console", logging, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // Shared helpers for tests that need a real PostgreSQL (DATABASE_URL from scripts/test).
        .target(
            name: "TestSupport",
            dependencies: ["PostgresClient", "Persistence", "Schema", logging],
            path: "Tests/TestSupport",
            exclude: ["fake_telegram.py"],
            swiftSettings: swiftSettings
        ),
        // In-memory Units of Work and repositories for unit tests of the services (no database).
        .target(
            name: "InMemoryRepositories",
            dependencies: ["Domain", "Persistence", "Repositories"],
            path: "Tests/InMemoryRepositories",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient", "TestSupport", logging],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersistenceTests",
            dependencies: [
                "Persistence", "PostgresClient", "Schema", "Domain", "Repositories", "Services", "TestSupport", logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServicesTests",
            dependencies: ["Services", "Domain", "Persistence", "InMemoryRepositories"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MonitoringTests",
            dependencies: [
                "Monitoring", "MonitoringAdapters", "HTTPServer", "Persistence", "PostgresClient", "Repositories",
                "Domain", "TestSupport", logging, prometheus,
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", logging, serviceLifecycle,
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: [
                "JobQueue", "Persistence", "PostgresClient", "Monitoring", "MonitoringAdapters", "TestSupport", logging,
                serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The runner's decisions (claim plan, admission, attempt outcome) as tables; no database.
        .testTarget(
            name: "JobQueueDecisionTests",
            dependencies: ["JobQueue"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TasksTests",
            dependencies: [
                "Tasks", "Repositories", "Domain", "JobQueue", "Persistence", "PostgresClient", "TestSupport",
                logging, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlotWorkerCLITests",
            dependencies: ["TestSupport", "PostgresClient"],
            exclude: ["stall_proxy.py", "console_browser.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "HTTPServer", "JobQueue", "PostgresClient", "TestSupport", logging],
            swiftSettings: swiftSettings
        ),
    ]
)
