public import Logging

/// What every `slot-worker` command starts from: the resolved configuration and the process's logger.
public struct SlotWorkerLaunch: Sendable {
    public let configuration: SlotWorkerConfiguration
    public let logger: Logger

    /// Resolves the configuration (``SlotWorkerConfiguration/load(overrides:environment:configFile:)``) and
    /// bootstraps swift-log once per process, writing to standard error at the configured level.
    public static func start(
        overrides: SlotWorkerOverrides = SlotWorkerOverrides(),
        configFile: String? = nil
    ) async throws -> SlotWorkerLaunch {
        let configuration = try await SlotWorkerConfiguration.load(overrides: overrides, configFile: configFile)
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return SlotWorkerLaunch(configuration: configuration, logger: Logger(label: "slot-worker"))
    }
}
