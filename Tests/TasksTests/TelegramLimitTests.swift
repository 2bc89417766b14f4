import Foundation
import Persistence
import Repositories
import Testing

@testable import Tasks

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

    /// The delivery's side of it: a sender that wakes late every time reserves again in place of the instant it
    /// gave up, five times, then lets the runner try again shortly. Were the instants not given back, the second
    /// reservation would find the chat's gap (1.25 s) held by the first, and the job would snooze for the gap.
    @Test func aDeliveryThatWakesLateEveryTimeGivesEachInstantBack() async throws {
        let harness = try await Harness.make()
        let settings = testSettings()
        var delivery = TelegramDelivery(database: harness.database, sender: SilentSender(), settings: settings)
        delivery.lateWakeUp = .seconds(-60)  // every wake-up counts as late
        // Five reservations, each given up; without giving them back the second finds the chat busy and the turn
        // is `.later` by the chat's gap. (No bound on wall time: a loaded machine may take seconds for the five.)
        #expect(try await delivery.waitForTurn(chatID: 7) == .later(.milliseconds(100)))
    }
}

/// A sender the limiter's tests never reach.
private struct SilentSender: MessageSender {
    func sendMessage(chatID: Int64, text: String) async throws(TelegramError) -> Int64? { nil }
}
