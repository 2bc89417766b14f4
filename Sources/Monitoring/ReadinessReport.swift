/// The outcome of evaluating ``HealthState`` at one instant: what `/readyz` answers.
public struct ReadinessReport: Sendable, Equatable {
    /// One check's state.
    public struct Check: Sendable, Equatable {
        /// Whether the check passes.
        public var ok: Bool
        /// A short human-readable explanation (never contains secrets; see ``HealthState``).
        public var detail: String
        /// How long ago the check was measured; nil when it never was.
        public var age: Duration?

        public init(ok: Bool, detail: String, age: Duration?) {
            self.ok = ok
            self.detail = detail
            self.age = age
        }
    }

    /// Ready for work: every check passes.
    public var isReady: Bool { self.checks.values.allSatisfy(\.ok) }
    /// The checks by name (always including `shutdown`, and `worker` when progress is tracked).
    public var checks: [String: Check]

    public init(checks: [String: Check]) {
        self.checks = checks
    }

    /// The JSON body of `/readyz`, keys in a stable order:
    /// `{"status":"ok"|"fail","checks":{"<name>":{"status":"ok"|"fail","detail":"…","age_seconds":1.2|null}}}`.
    public var json: String {
        var output = #"{"status":"# + (self.isReady ? #""ok""# : #""fail""#) + #","checks":{"#
        for (index, name) in self.checks.keys.sorted().enumerated() {
            let check = self.checks[name]!
            if index > 0 { output += "," }
            output += JSONString.quoted(name) + #":{"status":"# + (check.ok ? #""ok""# : #""fail""#)
            output += #","detail":"# + JSONString.quoted(check.detail) + #","age_seconds":"#
            if let age = check.age {
                let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
                output += "\((seconds * 1000).rounded() / 1000)"
            } else {
                output += "null"
            }
            output += "}"
        }
        return output + "}}"
    }
}
