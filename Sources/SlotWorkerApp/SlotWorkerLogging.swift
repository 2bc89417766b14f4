public import Logging

/// Logging for the process: swift-log bootstrapped once, writing to standard error in the configured format
/// (`log.format`: text or json) at the configured level.
public enum SlotWorkerLogging {
    /// Bootstraps swift-log (once per process) and returns the process's logger.
    public static func bootstrap(_ configuration: SlotWorkerConfiguration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "slot-worker")
    }
}
