import Foundation
import Testing

/// One sample line of a text exposition.
struct Sample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

struct ExpositionError: Error, CustomStringConvertible {
    var description: String
}

/// A strict parser for Prometheus text format 0.0.4, independent of swift-prometheus, used to read exact values and
/// to check the rules promtool does not (duplicate series, histogram buckets).
struct Exposition {
    var samples: [Sample] = []
    /// Family name → TYPE.
    var types: [String: String] = [:]
    /// Family name → HELP text.
    var helps: [String: String] = [:]

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw ExpositionError(description: "no final newline") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2 else { throw ExpositionError(description: "bad TYPE: \(line)") }
                guard self.types.updateValue(String(parts[1]), forKey: String(parts[0])) == nil else {
                    throw ExpositionError(description: "TYPE twice: \(line)")
                }
            } else if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                let space = rest.firstIndex(of: " ") ?? rest.endIndex
                let name = String(rest[..<space])
                guard self.helps.updateValue(String(rest[space...].dropFirst()), forKey: name) == nil else {
                    throw ExpositionError(description: "HELP twice: \(line)")
                }
            } else if line.hasPrefix("#") {
                continue
            } else {
                self.samples.append(try Self.parseSample(line))
            }
        }
    }

    /// The value of the one sample with `name` and exactly `labels`, or nil.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        self.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Samples named `name`.
    func samples(named name: String) -> [Sample] {
        self.samples.filter { $0.name == name }
    }

    /// Series that occur more than once (name plus label set).
    var duplicateSeries: [String] {
        var seen = Set<String>()
        var duplicates: [String] = []
        for sample in self.samples {
            let key =
                sample.name + "{"
                + sample.labels.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(
                    separator: ","
                ) + "}"
            if !seen.insert(key).inserted { duplicates.append(key) }
        }
        return duplicates
    }

    /// Problems of histogram series: missing +Inf, +Inf != _count, non-cumulative or unsorted buckets, no _sum.
    var histogramProblems: [String] {
        var problems: [String] = []
        for (family, type) in self.types where type == "histogram" {
            var series: [[String: String]: [(Double, Double)]] = [:]
            for sample in self.samples(named: family + "_bucket") {
                var labels = sample.labels
                guard let le = labels.removeValue(forKey: "le") else {
                    problems.append("\(family): bucket without le")
                    continue
                }
                let bound = le == "+Inf" ? Double.infinity : Double(le) ?? .nan
                series[labels, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                guard buckets.last?.0 == .infinity else {
                    problems.append("\(family)\(labels): +Inf bucket missing or not last")
                    continue
                }
                for (previous, next) in zip(buckets, buckets.dropFirst())
                where previous.0 >= next.0 || previous.1 > next.1 {
                    problems.append("\(family)\(labels): buckets not ascending and cumulative")
                }
                if self.value(family + "_count", labels) != buckets.last?.1 {
                    problems.append("\(family)\(labels): +Inf bucket differs from _count")
                }
                if self.value(family + "_sum", labels) == nil {
                    problems.append("\(family)\(labels): _sum missing")
                }
            }
        }
        return problems
    }

    private static func parseSample(_ line: Substring) throws -> Sample {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[..<index])
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while line[index] != "}" {
                let equals = line[index...].firstIndex(of: "=")!
                let labelName = String(line[index..<equals])
                index = line.index(after: equals)
                guard line[index] == "\"" else { throw ExpositionError(description: "unquoted label: \(line)") }
                index = line.index(after: index)
                var value = ""
                while line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        switch line[index] {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw ExpositionError(description: "bad escape: \(line)")
                        }
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                index = line.index(after: index)
                guard labels.updateValue(value, forKey: labelName) == nil else {
                    throw ExpositionError(description: "label twice: \(line)")
                }
                if line[index] == "," { index = line.index(after: index) }
            }
            index = line.index(after: index)
        }
        let valueText = line[index...].trimmingCharacters(in: .whitespaces)
        guard let value = Double(valueText) else { throw ExpositionError(description: "bad value: \(line)") }
        return Sample(name: name, labels: labels, value: value)
    }
}

/// Runs an executable with `stdin`; returns exit status and combined output.
func runTool(_ executable: String, _ arguments: [String], stdin: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Finds an executable: the path in environment variable `variable`, else `name` on PATH, else the fallbacks.
func findTool(variable: String?, name: String, fallbacks: [String] = []) -> String? {
    let environment = ProcessInfo.processInfo.environment
    if let variable, let path = environment[variable], !path.isEmpty { return path }
    let searchPath = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
    return (searchPath + fallbacks).first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// `promtool check metrics` on `text`; records a failure (never skips) when promtool cannot be found.
func expectPromtoolAccepts(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard
        let promtool = findTool(variable: "PROMTOOL", name: "promtool", fallbacks: ["/tmp/prom/usr/bin/promtool"])
    else {
        Issue.record(
            "promtool not found: set PROMTOOL, put promtool on PATH or install it at /tmp/prom/usr/bin/promtool",
            sourceLocation: sourceLocation
        )
        return
    }
    let result = try runTool(promtool, ["check", "metrics"], stdin: text)
    #expect(result.status == 0, "promtool check metrics: \(result.output)", sourceLocation: sourceLocation)
}

/// Parses `text` with Python's `prometheus_client.parser.text_string_to_metric_families` and returns
/// `[[family, type, sample name, labels, value]]`; records a failure when python3 or the package is missing.
func parseWithPythonClient(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[Any]] {
    guard let python = findTool(variable: "PYTHON3", name: "python3") else {
        Issue.record("python3 not found on PATH", sourceLocation: sourceLocation)
        return []
    }
    let script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                out.append([family.name, family.type, s.name, s.labels, s.value])
        print(json.dumps(out))
        """
    let result = try runTool(python, ["-c", script], stdin: text)
    guard result.status == 0 else {
        Issue.record("prometheus_client parser failed: \(result.output)", sourceLocation: sourceLocation)
        return []
    }
    let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    return json as? [[Any]] ?? []
}
