import Logging
import Monitoring

let quietLogger = Logger(label: "test.monitoring", factory: { _ in SwiftLogNoOpLogHandler() })

func makeRegistry() -> MetricsRegistry {
    MetricsRegistry(logger: quietLogger)
}

extension MetricsRegistry {
    /// Renders and parses the exposition.
    func parsed() throws -> Exposition {
        try Exposition(self.renderString())
    }
}
