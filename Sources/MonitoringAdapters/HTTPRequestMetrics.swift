public import Monitoring
import Prometheus
import Synchronization

/// `slotworker_http_requests_total{path,code}` for the monitoring HTTP server.
///
/// `path` is bounded: one of the known routes given at init, or `other`. `code` is the numeric status. Series for
/// the expected answers of each route start at 0; others appear on first use.
public final class HTTPRequestMetrics: Sendable {
    private struct Key: Hashable, Sendable {
        var path: String
        var code: Int
    }

    /// The `path` label of requests to unknown paths.
    public static let otherPath = "other"

    private let registry: MetricsRegistry
    private let knownPaths: Set<String>
    private let counters = Mutex<[Key: Counter]>([:])

    /// - Parameters:
    ///   - routes: the known paths, each with the status codes to create at 0.
    ///   - otherCodes: the status codes of unknown paths to create at 0.
    public init(registry: MetricsRegistry, routes: [String: [Int]], otherCodes: [Int] = [404]) {
        self.registry = registry
        self.knownPaths = Set(routes.keys)
        for (path, codes) in routes {
            for code in codes { _ = self.counter(Key(path: path, code: code)) }
        }
        for code in otherCodes { _ = self.counter(Key(path: Self.otherPath, code: code)) }
    }

    /// Counts one answered request.
    public func record(path: String, code: Int) {
        let label = self.knownPaths.contains(path) ? path : Self.otherPath
        self.counter(Key(path: label, code: code)).increment()
    }

    private func counter(_ key: Key) -> Counter {
        if let cached = self.counters.withLock({ $0[key] }) {
            return cached
        }
        let counter = self.registry.counter(
            "slotworker_http_requests_total",
            help: "HTTP requests answered by the monitoring server, by route and status code.",
            labels: ["path": key.path, "code": String(key.code)]
        )
        self.counters.withLock { $0[key] = counter }
        return counter
    }
}
