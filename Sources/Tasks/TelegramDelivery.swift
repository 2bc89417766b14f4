import Foundation
import Persistence
import Repositories

/// Sends one message within the Bot API's limits shared by every worker (``TelegramLimitRepository``): reserves a
/// send instant in one short statement, waits for it holding no connection, then calls the sender.
struct TelegramDelivery: Sendable {
    /// The result of ``waitForTurn(chatID:)``.
    enum Turn: Sendable, Equatable {
        /// Send now.
        case now
        /// Not within ``maxWait``: run the job again after this long (nothing is sent).
        case later(Duration)
    }

    /// The limit's row in `telegram_send_limits`.
    static let limitName = "sendMessage"
    /// Longer waits snooze the job instead of holding a runner slot (and reserve nothing).
    static let maxWait: Duration = .seconds(5)

    let database: Database
    let sender: any MessageSender
    let settings: ReminderSettings

    /// A wake-up later than this after the reserved instant gives the instant up and reserves again (in place of the
    /// one given up): a message sent later than that next to punctual ones could crowd a one-second window past the
    /// cap (the limiter spaces reservations, not arrivals). The limiter's headroom (``ReminderSettings/headroom``,
    /// 1.25) keeps a window of reservations at 80% of the cap, so arrivals up to 250 ms late still fit under it.
    /// (A test sets it below zero: every wake-up is late.)
    var lateWakeUp: Duration = .milliseconds(200)

    /// Reserves this message's instant and sleeps until it, or says when to come back.
    func waitForTurn(chatID: Int64) async throws -> Turn {
        var abandoned: Double?
        for _ in 0..<5 {
            let reservation = try await database.withSession { context in
                try await TelegramLimitRepository(context: context).reserve(
                    limit: Self.limitName, chatID: chatID, spacing: settings.spacing,
                    chatGap: settings.effectiveChatGap, maxWait: Self.maxWait, abandoning: abandoned
                ).get()
            }
            switch reservation {
            case .send(let wait, let slot):
                let instant = ContinuousClock.now + wait
                if wait > .zero { try await Task.sleep(until: instant, clock: .continuous) }
                if ContinuousClock.now <= instant + lateWakeUp { return .now }
                abandoned = slot
            case .later(let retryAfter):
                return .later(retryAfter)
            }
        }
        return .later(.milliseconds(100))  // a machine this busy: let the runner try again shortly
    }

    /// After a 429: every worker waits `retryAfter` and sends slower for a while.
    func penalize(retryAfter: Duration) async throws {
        try await database.withSession { context in
            try await TelegramLimitRepository(context: context).penalize(
                limit: Self.limitName, retryAfter: retryAfter
            ).get()
        }
    }
}
