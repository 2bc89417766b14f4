import Prometheus

/// The `slotworker_build_info` gauge: value 1, build metadata in its labels.
///
/// Join it to other series to see which version produced them, for example
/// `rate(slotworker_jobs_finished_total[5m]) * on(instance) group_left(version) slotworker_build_info`.
public struct BuildInfo: Sendable, Equatable {
    /// The SlotWorker version (label `version`).
    public var version: String
    /// The Swift compiler version the binary was built with (label `swift_version`).
    public var swiftVersion: String
    /// More bounded labels, for example `["revision": "1a2b3c4"]`. Keys must be valid label names.
    public var extraLabels: [String: String]

    public init(version: String, swiftVersion: String = BuildInfo.compilerVersion, extraLabels: [String: String] = [:])
    {
        self.version = version
        self.swiftVersion = swiftVersion
        self.extraLabels = extraLabels
    }

    /// The compiler's major.minor version, as known at compile time.
    public static var compilerVersion: String {
        #if compiler(>=7.0)
            "7.x"
        #elseif compiler(>=6.3)
            "6.3"
        #elseif compiler(>=6.2)
            "6.2"
        #elseif compiler(>=6.1)
            "6.1"
        #else
            "6.0"
        #endif
    }

    /// Defines `slotworker_build_info` with this build's labels in `registry` and sets it to 1.
    public func register(in registry: MetricsRegistry) {
        var labels = self.extraLabels
        labels["version"] = self.version
        labels["swift_version"] = self.swiftVersion
        registry.gauge(
            "slotworker_build_info", help: "Build information of SlotWorker; the value is always 1.", labels: labels
        )
        .set(to: 1)
    }
}
