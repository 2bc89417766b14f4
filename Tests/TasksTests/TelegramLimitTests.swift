import Foundation
import Persistence
import Repositories
import Testing

/// The shared send limiter in PostgreSQL (`telegram_reserve_send`), through its repository.
@Suite("Telegram send limits")
struct TelegramLimitTests {
    /// A sender that woke too late gives its instant up: reserving again in its place is not held back by the
    /// chat's gap from the reservation given up, and giving up frees only that reservation.
    @Test func aReservationGivenUpNoLongerHoldsTheChatsGap() async throws {
        let harness = try await Harness.make()
        func reserve(_ chat: Int64, abandoning: Double? = nil) async throws -> TelegramLimitRepository.Reservation {
            try await harness.database.withSession { context in
                try await TelegramLimitRepository(context: context).reserve(
                    limit: "sendMessage", chatID: chat, spacing: .milliseconds(10), chatGap: .seconds(10),
                    maxWait: .seconds(5), abandoning: abandoning
                ).get()
            }
        }
        guard case .send(_, let first) = try await reserve(7) else {
            Issue.record("the first reservation of a chat is sent")
            return
        }
        // Without giving it up, the chat's gap holds the next one back.
        guard case .later(let retry) = try await reserve(7) else {
            Issue.record("a second reservation within the chat's gap must wait")
            return
        }
        #expect(retry > .seconds(5))
        // A bogus instant given up frees nothing.
        guard case .later = try await reserve(7, abandoning: first - 500) else {
            Issue.record("only the reservation given up frees the gap")
            return
        }
        guard case .send(let wait, let second) = try await reserve(7, abandoning: first) else {
            Issue.record("a reservation in place of one given up is sent")
            return
        }
        #expect(second > first)
        #expect(wait < .seconds(1))
        // The chat's gap now runs from the new reservation: giving up the old one again frees nothing.
        guard case .later = try await reserve(7, abandoning: first) else {
            Issue.record("the new reservation holds the chat's gap")
            return
        }
        // Other chats keep the global spacing only.
        guard case .send(_, let other) = try await reserve(8) else {
            Issue.record("another chat is sent")
            return
        }
        #expect(other >= second + 9)
    }
}
