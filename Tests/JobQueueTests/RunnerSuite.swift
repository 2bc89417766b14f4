import Testing

/// Runner tests run one at a time: several measure latencies that a concurrent load test would distort.
@Suite("Runner", .serialized)
struct RunnerSuite {}
