import Foundation

extension SlotWorkerConfiguration {
    /// `slot-worker config show`: every key with its effective value (secrets redacted) and its source, as aligned
    /// text or a JSON array.
    public func show(json: Bool) throws -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            return String(decoding: try encoder.encode(entries), as: UTF8.self)
        }
        let keyWidth = entries.map(\.key.count).max() ?? 0
        let valueWidth = min(entries.map(\.value.count).max() ?? 0, 40)
        return entries.map { entry in
            entry.key.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0)
                + (entry.value.isEmpty ? "(unset)" : entry.value).padding(
                    toLength: max(valueWidth, 7) + 2, withPad: " ", startingAt: 0)
                + entry.source.description
        }
        .joined(separator: "\n")
            + unknownVariables.map { "\n(ignored: \($0) names no configuration key)" }.joined()
    }
}
