import Foundation
public import Persistence
import PostgresClient

/// The Bot API's limits, shared by every worker through the database (`telegram_send_limits`,
/// `telegram_chat_limits`). Each call is one short autocommit statement; no lock outlives it.
public struct TelegramLimitRepository: Sendable {
    /// The outcome of ``reserve(limit:chatID:spacing:chatGap:maxWait:abandoning:)``.
    public enum Reservation: Sendable, Equatable {
        /// Send after waiting this long (zero: now); the instant (`slot`, epoch ms by the database clock) is
        /// reserved for this message. Pass `slot` as `abandoning` to give it up for a new one.
        case send(after: Duration, slot: Double)
        /// Nothing was reserved — the chat had a message less than the gap ago (or one is reserved), or the next
        /// free instant is more than `maxWait` away: try again after this long.
        case later(retryAfter: Duration)
    }

    public let context: RepositoryContext
    public static let repositoryName = "telegram_limits"
    public static let operations = ["reserve", "penalize", "prune_chats"]

    public init(context: RepositoryContext) { self.context = context }

    /// Reserves the next send instant of `limit` for a message to `chatID`: `spacing` after the previous
    /// reservation of any worker (times the current slowdown), and at least `chatGap` after the chat's previous one,
    /// unless that instant is more than `maxWait` away. With `abandoning` (the `slot` of this message's previous
    /// reservation, which it gives up: its sender woke too late for it), that reservation no longer holds the chat's
    /// gap.
    public func reserve(
        limit: String, chatID: Int64, spacing: Duration, chatGap: Duration, maxWait: Duration,
        abandoning: Double? = nil
    ) async -> Result<Reservation, RepositoryError> {
        await context.run(repository: Self.repositoryName, operation: "reserve") { connection in
            let rows = try await connection.query(
                "SELECT wait_ms, retry_ms, slot_ms FROM telegram_reserve_send($1, $2, $3, $4, $5, $6)",
                [
                    limit, chatID, spacing.doubleMilliseconds, chatGap.doubleMilliseconds, maxWait.doubleMilliseconds,
                    abandoning,
                ],
                prepared: true,
                operation: "reserve"
            )
            if let wait = try rows.first?.decode("wait_ms", as: Double?.self),
                let slot = try rows.first?.decode("slot_ms", as: Double?.self)
            {
                return .send(after: .milliseconds(Int64(max(0, wait).rounded(.up))), slot: slot)
            }
            let retry = try rows.first?.decode("retry_ms", as: Double?.self) ?? 1000
            return .later(retryAfter: .milliseconds(Int64(max(1, retry).rounded(.up))))
        }
    }

    /// After a 429: no worker sends before `retryAfter` from now, and the spacing doubles (at most ×32; it decays
    /// back by 2% per message).
    public func penalize(limit: String, retryAfter: Duration) async -> Result<Void, RepositoryError> {
        await context.run(repository: Self.repositoryName, operation: "penalize") { connection in
            _ = try await connection.query(
                """
                UPDATE telegram_send_limits
                SET next_at = greatest(next_at, clock_timestamp() + $2 * interval '1 millisecond'),
                    slowdown = least(slowdown * 2, 32)
                WHERE name = $1
                """,
                [limit, retryAfter.doubleMilliseconds],
                prepared: true,
                operation: "penalize"
            )
        }
    }

    /// Deletes per-chat rows whose gap ended more than `age` ago; returns how many.
    public func pruneChats(olderThan age: Duration) async -> Result<Int, RepositoryError> {
        await context.run(repository: Self.repositoryName, operation: "prune_chats") { connection in
            let rows = try await connection.query(
                "WITH gone AS (DELETE FROM telegram_chat_limits WHERE next_at < clock_timestamp() - $1 * "
                    + "interval '1 millisecond' RETURNING 1) SELECT count(*)::int8 AS n FROM gone",
                [age.doubleMilliseconds],
                prepared: true,
                operation: "prune_chats"
            )
            return try rows.first?.decode("n", as: Int.self) ?? 0
        }
    }
}

extension Duration {
    var doubleMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
