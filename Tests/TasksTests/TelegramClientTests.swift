import Foundation
import Testing

@testable import Tasks

@Suite("Telegram client against a local fake Bot API")
struct TelegramClientTests {
    let token = "123456:SECRET-bot-token"

    @Test func sendsTheMessageToTheBotPath() async throws {
        let fake = try FakeTelegram()
        let client = TelegramClient(apiURL: fake.url, token: token)
        try await client.sendMessage(chatID: 42, text: "Привет \"there\"")
        let requests = fake.requests
        #expect(requests.count == 1)
        #expect(requests.first?.path == "/bot\(token)/sendMessage")
        #expect(requests.first?.message.chatID == 42)
        #expect(requests.first?.message.text == "Привет \"there\"")
    }

    @Test func classifiesFailuresWithoutLeakingTheToken() async throws {
        let fake = try FakeTelegram()
        let client = TelegramClient(apiURL: fake.url, token: token)
        let blocked = await #expect(throws: TelegramError.self) { try await client.sendMessage(chatID: 403, text: "x") }
        #expect(blocked?.kind == .rejected)
        #expect(blocked?.isRetryable == false)
        let server = await #expect(throws: TelegramError.self) { try await client.sendMessage(chatID: 500, text: "x") }
        #expect(server?.kind == .serverError)
        #expect(server?.isRetryable == true)
        let limited = await #expect(throws: TelegramError.self) { try await client.sendMessage(chatID: 429, text: "x") }
        #expect(limited?.kind == .rateLimited)
        #expect(limited?.retryAfter == .seconds(7))
        for error in [blocked, server, limited] {
            #expect(error?.description.contains("SECRET") == false)
        }
    }

    @Test func unreachableAPIIsRetryableAndTokenFree() async throws {
        let client = TelegramClient(apiURL: URL(string: "http://127.0.0.1:1")!, token: token, timeout: .seconds(2))
        let error = await #expect(throws: TelegramError.self) { try await client.sendMessage(chatID: 1, text: "x") }
        #expect(error?.kind == .unreachable)
        #expect(error?.description.contains("SECRET") == false)
    }
}
