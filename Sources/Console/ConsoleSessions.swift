import Synchronization

/// Logged-in browser sessions (in memory, per process): a random session id in an HttpOnly, SameSite=Strict
/// cookie, and per session a random CSRF token every action form carries. Sessions expire after 12 hours; at most
/// 1,000 are kept (the oldest go first).
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        var csrf: String
        var created: ContinuousClock.Instant
    }

    private let sessions = Mutex<[String: Session]>([:])
    static let lifetime: Duration = .seconds(12 * 3600)

    /// A new session; returns its id and CSRF token.
    func create() -> (id: String, csrf: String) {
        let id = Self.randomToken()
        let csrf = Self.randomToken()
        sessions.withLock { sessions in
            let now = ContinuousClock.now
            sessions = sessions.filter { now - $0.value.created < Self.lifetime }
            if sessions.count >= 1000, let oldest = sessions.min(by: { $0.value.created < $1.value.created }) {
                sessions[oldest.key] = nil
            }
            sessions[id] = Session(csrf: csrf, created: now)
        }
        return (id, csrf)
    }

    /// The CSRF token of a live session.
    func csrf(for id: String?) -> String? {
        guard let id else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[id], ContinuousClock.now - session.created < Self.lifetime else { return nil }
            return session.csrf
        }
    }

    func remove(_ id: String?) {
        guard let id else { return }
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// 32 random bytes as hex (the system generator: getrandom(2)).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(16) }.joined()
    }

    /// Compares secrets in time independent of where they differ.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
