// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

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
        // Linux epoll(7) (part of libc), for the PostgreSQL client's socket poller.
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),

        // PostgreSQL client over libpq: connections, pool, typed rows, LISTEN/NOTIFY.
        .target(
            name: "PostgresClient",
            dependencies: ["CLibPQ", "CEpoll", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Persistence core: Result helpers, RepositoryError, generic repository, Unit of Work, migrator.
        .target(
            name: "Persistence",
            dependencies: ["PostgresClient", .product(name: "Logging", package: "swift-log")],
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
        // Monitoring: the Prometheus registry, metric definitions, process metrics, health state, endpoints.
        .target(
            name: "Monitoring",
            dependencies: [
                "PostgresClient", "Persistence", "HTTPServer",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTPServer: a small libmicrohttpd server run as a service.
        .target(
            name: "HTTPServer",
            dependencies: [
                "CMicroHTTPD",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // JobQueue: the PostgreSQL-backed job queue, its runner, rescuer, scheduler and pruner.
        .target(
            name: "JobQueue",
            dependencies: [
                "PostgresClient", "Persistence", "Monitoring",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Services: the application's use cases (book a slot, create a recruiter, ...) in one unit of work each.
        .target(
            name: "Services",
            dependencies: ["Persistence", "Repositories", "Domain", "JobQueue"],
            swiftSettings: swiftSettings
        ),
        // Tasks: job handlers of the domain (release lapsed reservations, expire slots, send reminders).
        .target(
            name: "Tasks",
            dependencies: [
                "PostgresClient", "Persistence", "Repositories", "Domain", "JobQueue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // SlotWorkerApp: configuration and the wiring of services for the executable.
        .target(
            name: "SlotWorkerApp",
            dependencies: [
                "PostgresClient", "Persistence", "Schema", "Domain", "Repositories", "JobQueue", "Services", "Tasks",
                "Monitoring", "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SlotWorkerCLI",
            dependencies: [
                "SlotWorkerApp", "Monitoring",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SlotWorkerBench",
            dependencies: [
                "PostgresClient", "Persistence", "Schema", "Repositories", "JobQueue", "Monitoring", "HTTPServer",
                "SlotWorkerApp", "Domain", "Tasks",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared helpers for tests that need a real PostgreSQL (DATABASE_URL from scripts/test).
        .target(
            name: "TestSupport",
            dependencies: ["PostgresClient", "Persistence", "Schema"],
            path: "Tests/TestSupport",
            exclude: ["fake_telegram.py"],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(
            name: "PersistenceTests",
            dependencies: ["Persistence", "Schema", "Domain", "Repositories", "Services", "TestSupport"]
        ),
        .testTarget(
            name: "MonitoringTests",
            dependencies: [
                "Monitoring", "HTTPServer", "Persistence", "PostgresClient", "Repositories", "Domain", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: ["JobQueue", "Persistence", "Monitoring", "Schema", "TestSupport"]
        ),
        .testTarget(
            name: "TasksTests",
            dependencies: [
                "Tasks", "Repositories", "Domain", "JobQueue", "Persistence", "PostgresClient", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SlotWorkerCLITests",
            dependencies: ["TestSupport", "PostgresClient"]
        ),
    ]
)
