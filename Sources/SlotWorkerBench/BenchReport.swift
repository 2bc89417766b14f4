import Foundation

/// One benchmark figure, printed as the JSON line `scripts/bench` promises:
/// `{"bench":NAME,"value":…,"unit":…,"baseline":…,"ratio":…}`.
struct BenchFigure: Encodable {
    var bench: String
    var value: Double
    var unit: String
    var baseline: Double?
    var ratio: Double?

    init(bench: String, value: Double, unit: String, baseline: Double? = nil, higherIsBetter: Bool = true) {
        self.bench = bench
        self.value = (value * 1000).rounded() / 1000
        self.unit = unit
        self.baseline = baseline.map { ($0 * 1000).rounded() / 1000 }
        if let baseline, baseline > 0, value > 0 {
            self.ratio = ((higherIsBetter ? value / baseline : baseline / value) * 1000).rounded() / 1000
        }
    }

    enum CodingKeys: String, CodingKey { case bench, value, unit, baseline, ratio }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bench, forKey: .bench)
        try container.encode(value, forKey: .value)
        try container.encode(unit, forKey: .unit)
        if let baseline {
            try container.encode(baseline, forKey: .baseline)
        } else {
            try container.encodeNil(forKey: .baseline)
        }
        if let ratio { try container.encode(ratio, forKey: .ratio) } else { try container.encodeNil(forKey: .ratio) }
    }

    func print() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try! encoder.encode(self)
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// Reads `--name value` options of the bench command line.
struct BenchArguments {
    let values: [String: String]
    let name: String

    init(_ arguments: [String]) {
        var values: [String: String] = [:]
        var positional: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), index + 1 < arguments.count {
                values[String(argument.dropFirst(2))] = arguments[index + 1]
                index += 2
            } else {
                positional.append(argument)
                index += 1
            }
        }
        self.values = values
        self.name = positional.first ?? ""
    }

    func double(_ key: String) -> Double? { values[key].flatMap(Double.init) }
    func int(_ key: String, default value: Int) -> Int { values[key].flatMap(Int.init) ?? value }
}

/// Percentile of sorted samples (nearest rank).
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
