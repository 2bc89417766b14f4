import CBuildInfo
import Console
import Foundation
import HTTPServer
import JobQueue
public import Logging
import Metrics
public import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient
import ServiceLifecycle
import Tasks
import UnixSignals

/// `slot-worker run`: wires the pool, the metrics registry, the health state, the HTTP server and the job queue
/// into one `ServiceGroup` and runs it until SIGTERM/SIGINT (or until idle with `exitWhenIdle`).
///
/// Shutdown order (the group stops services in reverse): readiness turns 503 at once, the runner stops claiming
/// and drains its in-flight jobs (releasing unfinished ones, without spending an attempt up to the release cap), the
/// rescuer, scheduler, pruner and sampler stop, and the HTTP server stops last, so probes see the 503 during the drain.
public struct SlotWorkerApplication {
    public let configuration: SlotWorkerConfiguration
    public let metrics: MetricsRegistry
    let logger: Logger

    /// Creates the process's one metrics registry (``metrics``).
    public init(configuration: SlotWorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.metrics = MetricsRegistry(logger: logger)
        self.logger = logger
    }

    /// Bootstraps swift-metrics with ``metrics`` (so library metrics land in the same registry), then runs until shut
    /// down. Call once per process. Throws configuration and bind errors before anything starts.
    public func run(exitWhenIdle: Bool = false) async throws {
        MetricsSystem.bootstrap(metrics.makeMetricsFactory())
        let postgres = try configuration.postgresConfiguration(timeouts: configuration.databaseTimeouts)
        let listenConfiguration = try configuration.listenURL.map {
            try PostgresConfiguration(
                $0, connectTimeoutSeconds: configuration.connectTimeoutSeconds, timeouts: configuration.databaseTimeouts
            )
        }

        _ = ProcessMetrics(registry: metrics)  // refreshed by its own pre-scrape hook
        BuildInfo(version: SlotWorkerVersion.current, extraLabels: ["revision": SlotWorkerVersion.revision])
            .register(in: metrics)
        let poolMetrics = PoolMetrics(registry: metrics)
        let pool = PostgresPool(
            configuration: postgres,
            options: configuration.poolOptions(),
            observer: poolMetrics,
            logger: logger
        )
        poolMetrics.setStatisticsSource { pool.statistics() }
        // An operation's series appear when this worker first runs it: most of the catalog's operations (the
        // generic CRUD ones, for the demo seed and the tests) never run here, and declared at 0 they were most of
        // the exposition.
        let repositoryMetrics = RepositoryMetrics(registry: metrics)
        let database = Database(pool: pool, observer: repositoryMetrics, logger: logger)

        let health = HealthState(
            checks: ["database"],
            resultMaxAge: max(configuration.pollInterval * 3, .seconds(15)),
            workerProgressStaleness: max(configuration.pollInterval * 5, .seconds(30))
        )

        var registry = JobRegistry()
        let domainMetrics = PrometheusSlotTasksMetrics(registry: metrics)
        let sender = try makeMessageSender(observer: domainMetrics)
        SlotTasks.register(
            in: &registry, database: database, sender: sender, settings: configuration.reminders,
            observer: domainMetrics)
        TraceJob.register(in: &registry, database: database)

        var runnerConfiguration = JobRunnerConfiguration(
            concurrency: configuration.concurrency,
            databaseConcurrency: configuration.databaseConcurrency,
            workerID: configuration.workerID,
            lease: configuration.leaseDuration,
            pollInterval: configuration.pollInterval,
            listen: configuration.listenForNotifications,
            listenConfiguration: listenConfiguration,
            shutdownTimeout: configuration.shutdownTimeout,
            maxReleases: configuration.maxReleases
        )
        runnerConfiguration.exitWhenIdle = exitWhenIdle
        let worker = JobQueueWorker(
            database: database,
            registry: registry,
            configuration: runnerConfiguration,
            periodicJobs: try SlotTasks.periodicJobs(
                release: configuration.releaseLapsedSchedule,
                expire: configuration.expirePastSchedule,
                settings: configuration.reminders
            ),
            completedRetention: configuration.finishedRetention,
            deadRetention: configuration.deadRetention,
            sampleInterval: configuration.statsInterval,
            observer: FanOutJobQueueObserver([
                PrometheusJobQueueMetrics(registry: metrics),
                JobQueueHealthObserver(health: health, connectionTrouble: { pool.connectTrouble }),
            ]),
            logger: logger
        )

        let endpoints = MonitoringEndpoints(
            registry: metrics,
            health: health,
            metricsBearerToken: configuration.metricsBearerToken
        )
        // The console gets a small pool of its own: operators' pages can never take the worker's connections.
        let consolePool = PostgresPool(
            configuration: postgres,
            options: .init(maxConnections: 2, acquireTimeout: min(configuration.acquireTimeout, .seconds(2))),
            logger: logger
        )
        let console = Console(
            pool: consolePool,
            configuration: ConsoleConfiguration(
                adminToken: configuration.consoleAdminToken,
                showPayloads: configuration.consoleShowPayloads,
                statementTimeout: configuration.consoleStatementTimeout,
                exactCountLimit: configuration.consoleExactCountLimit,
                listenHost: configuration.httpHost,
                periodicJobs: worker.scheduler.jobs
            ),
            registry: registry,
            logger: logger
        )
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                host: configuration.httpHost,
                port: configuration.httpPort,
                connectionLimit: configuration.httpConnectionLimit,
                perIPConnectionLimit: configuration.httpPerIPConnectionLimit,
                connectionTimeoutSeconds: configuration.httpConnectionTimeoutSeconds,
                threadPoolSize: configuration.httpThreads,
                asyncConcurrencyLimit: 8,
                asyncTimeout: configuration.consoleStatementTimeout * 3
            ),
            logger: logger,
            onShutdown: { health.markShuttingDown() },
            mounts: [console.mount],
            handler: endpoints.handler
        )
        for variable in configuration.unknownVariables {
            logger.warning(
                "ignored environment variable: it names no configuration key", metadata: ["variable": "\(variable)"])
        }
        if let refusal = console.configuration.refusal { logger.warning("\(refusal)") }
        let port = try server.start()  // bind errors fail here, before any work starts
        logger.info(
            "slot-worker started",
            metadata: [
                "http.address": "\(configuration.httpHost):\(port)",
                "console": "http://\(configuration.httpHost):\(port)/ui",
                "db": "\(postgres.description)",
                "config": "\(configuration.redactedSummary)",
            ]
        )

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        for service in worker.services {
            let isRunner = service is JobRunner
            services.append(
                .init(
                    service: service,
                    successTerminationBehavior: isRunner && exitWhenIdle ? .gracefullyShutdownGroup : .cancelGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup
                )
            )
        }
        services.append(
            .init(
                service: SlotStatsSampler(
                    database: database, interval: configuration.slotStatsInterval, observer: domainMetrics,
                    logger: logger)
            ))
        if configuration.listenForNotifications {
            services.append(
                .init(
                    service: ReminderPlanner.WakeUps(
                        planner: ReminderPlanner(
                            database: database, settings: configuration.reminders, observer: domainMetrics),
                        listenConfiguration: listenConfiguration ?? postgres,
                        logger: logger
                    )
                ))
        }
        services.append(.init(service: ReadinessOnShutdown(health: health)))
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout + .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            await consolePool.close()
            await pool.close()
            throw error
        }
        await consolePool.close()
        await pool.close()
        logger.info("slot-worker stopped")
    }
}

extension SlotWorkerApplication {
    /// The Bot API client when a token is configured, else the log notifier (prints chat id and full text).
    func makeMessageSender(observer: any SlotTasksObserver) throws -> any MessageSender {
        guard let token = configuration.telegramBotToken, !token.isEmpty else {
            return LoggingMessageSender(logger: logger)
        }
        guard let url = URL(string: configuration.telegramAPIURL), url.scheme == "http" || url.scheme == "https",
            url.host != nil
        else {
            throw SlotWorkerConfiguration.Invalid(
                key: "telegram.api_url", reason: "\"\(configuration.telegramAPIURL)\" is not an http(s) URL")
        }
        return TelegramClient(
            apiURL: url, token: token, timeout: configuration.telegramTimeout,
            observe: { method, status, duration in
                observer.telegramRequest(method: method, status: status, duration: duration)
            }
        )
    }
}

/// Turns readiness to 503 the moment graceful shutdown begins. Listed last, so the group shuts it down first.
struct ReadinessOnShutdown: Service {
    let health: HealthState

    func run() async throws {
        // Suspends until graceful shutdown begins (or the group is cancelled).
        try? await gracefulShutdown()
        health.markShuttingDown()
    }
}

/// The version and git revision reported in `slotworker_build_info` (labels `version`, `revision`).
public enum SlotWorkerVersion {
    public static let current = "0.1.0"
    /// From `SLOT_WORKER_GIT_REVISION` at build time (see Package.swift); "unknown" for a plain `swift build`.
    public static let revision = String(cString: slotworker_git_revision())
}
