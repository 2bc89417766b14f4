public import Foundation

/// One job with the error of every failed attempt (`jobs.errors`).
public struct JobDetail: Sendable, Equatable {
    public var job: Job
    public var errors: [AttemptError]

    /// One failed attempt.
    public struct AttemptError: Sendable, Equatable, Codable {
        public var attempt: Int
        public var at: Date
        public var error: String

        /// Decodes `jobs.errors` (a JSON array of `{"attempt", "at" (epoch seconds), "error"}`); entries it cannot
        /// read are dropped.
        static func decode(_ json: String) -> [AttemptError] {
            struct Raw: Decodable {
                var attempt: Int?
                var at: Double?
                var error: String?
            }
            guard let raw = try? JSONDecoder().decode([Raw].self, from: Data(json.utf8)) else { return [] }
            return raw.compactMap { entry in
                guard let attempt = entry.attempt, let at = entry.at, let error = entry.error else { return nil }
                return AttemptError(attempt: attempt, at: Date(timeIntervalSince1970: at), error: error)
            }
        }
    }
}
