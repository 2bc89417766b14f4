public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends messages to candidates. The production implementation is ``TelegramClient``; tests point it at a local
/// fake Bot API server.
public protocol MessageSender: Sendable {
    /// Sends `text` to a chat. Throws ``TelegramError``.
    func sendMessage(chatID: Int64, text: String) async throws
}

/// Why a Telegram call failed. Never contains the bot token (it is part of every Bot API URL).
public struct TelegramError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Network failure or timeout: retry later.
        case unreachable
        /// HTTP 429: retry after `retryAfter`.
        case rateLimited = "rate_limited"
        /// HTTP 5xx: retry later.
        case serverError = "server_error"
        /// HTTP 4xx other than 429 (chat not found, bot blocked): retrying will not help.
        case rejected
        /// The answer was not the Bot API's JSON.
        case invalidResponse = "invalid_response"
    }

    public var kind: Kind
    public var message: String
    public var retryAfter: Duration?

    /// True when a later attempt may succeed.
    public var isRetryable: Bool { kind != .rejected && kind != .invalidResponse }

    public var description: String { "Telegram sendMessage failed (\(kind.rawValue)): \(message)" }
}

/// A minimal Telegram Bot API client (`sendMessage` only) over URLSession.
public struct TelegramClient: MessageSender {
    private let apiURL: URL
    private let token: String
    private let session: URLSession

    /// - Parameters:
    ///   - apiURL: `https://api.telegram.org`, or a local fake in tests.
    ///   - token: the bot token; used only inside request URLs, never logged or put in errors.
    public init(apiURL: URL, token: String, timeout: Duration = .seconds(10)) {
        self.apiURL = apiURL
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(timeout.components.seconds)
        configuration.timeoutIntervalForResource = Double(timeout.components.seconds)
        self.session = URLSession(configuration: configuration)
    }

    private struct SendMessage: Encodable {
        let chatID: Int64
        let text: String
        enum CodingKeys: String, CodingKey {
            case chatID = "chat_id"
            case text
        }
    }

    private struct Answer: Decodable {
        let ok: Bool
        let description: String?
        let parameters: Parameters?
        struct Parameters: Decodable {
            let retryAfter: Int?
            enum CodingKeys: String, CodingKey { case retryAfter = "retry_after" }
        }
    }

    public func sendMessage(chatID: Int64, text: String) async throws {
        var request = URLRequest(url: apiURL.appendingPathComponent("bot\(token)/sendMessage"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(SendMessage(chatID: chatID, text: text))
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            // URLError descriptions carry the URL, which carries the token: report only the error code.
            let code = (error as? URLError)?.code.rawValue ?? -1
            throw TelegramError(
                kind: .unreachable, message: "request to \(apiURL.host ?? "api") failed (URLError \(code))")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let answer = try? JSONDecoder().decode(Answer.self, from: data)
        let reason = (answer?.description ?? "HTTP \(status)").replacingOccurrences(of: token, with: "****")
        switch status {
        case 200..<300 where answer?.ok == true:
            return
        case 429:
            throw TelegramError(
                kind: .rateLimited,
                message: reason,
                retryAfter: .seconds(answer?.parameters?.retryAfter ?? 5)
            )
        case 500...:
            throw TelegramError(kind: .serverError, message: reason)
        case 400..<500:
            throw TelegramError(kind: .rejected, message: reason)
        default:
            throw TelegramError(kind: .invalidResponse, message: "unexpected answer: \(reason)")
        }
    }
}
