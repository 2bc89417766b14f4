/// What a `wrk --latency` run printed: throughput, the 99th percentile, and every sign that a request failed.
struct WrkReport {
    var requests = 0
    var requestsPerSecond = 0.0
    var p99Milliseconds = 0.0
    /// Non-empty when the run must not count: socket errors, non-2xx/3xx answers, no request, no percentiles.
    var problems: [String] = []

    /// Parses wrk's report (`12345 requests in 10.00s, …`, `Socket errors: connect 0, read 0, write 0, timeout 0`,
    /// `Non-2xx or 3xx responses: 7`, ` 99%    2.47ms`, `Requests/sec: 1234.56`).
    init(_ output: String) {
        var sawPercentile = false
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            switch first {
            case "Requests/sec:" where fields.count > 1:
                requestsPerSecond = Double(fields[1]) ?? 0
            case "99%" where fields.count > 1:
                p99Milliseconds = Self.milliseconds(String(fields[1]))
                sawPercentile = p99Milliseconds > 0
            case "Socket" where line.contains("errors:"):
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                let counts = fields.dropFirst(2).compactMap { Int($0.filter(\.isNumber)) }
                if counts.contains(where: { $0 > 0 }) { problems.append(String(line.drop { $0 == " " })) }
            case "Non-2xx":
                problems.append(String(line.drop { $0 == " " }))
            default:
                if fields.count > 2, fields[1] == "requests", fields[2] == "in", let count = Int(first) {
                    requests = count
                }
            }
        }
        if requests == 0 { problems.append("no request completed") }
        if !sawPercentile { problems.append("no 99th percentile in the latency distribution") }
    }

    /// wrk prints latencies as `812.00us`, `1.23ms` or `2.01s`.
    static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? 0) * 1000 }
        return 0
    }
}
