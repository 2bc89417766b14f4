public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends messages to candidates. The production implementation is ``TelegramClient``; without a bot token the
/// worker uses ``LoggingMessageSender``; tests point a ``TelegramClient`` at a local fake Bot API.
public protocol MessageSender: Sendable {
    /// Sends `text` to a chat and returns Telegram's message id. Throws ``TelegramError``.
    func sendMessage(chatID: Int64, text: String) async throws(TelegramError) -> Int64?
}

/// Why a Bot API call failed. Its texts never contain the bot token (every Bot API URL carries it): URL errors are
/// reported by code only, and the answer's description is cleaned (control characters dropped, at most 200
/// characters, the token masked).
public struct TelegramError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 403, or 400 "chat not found" / "bot was blocked" / "user is deactivated": this chat will never work.
        case chatUnreachable = "chat_unreachable"
        /// Another 4xx (e.g. message too long): retrying the same request cannot help.
        case rejected
        /// 429: wait `retryAfter`.
        case rateLimited = "rate_limited"
        /// 5xx.
        case serverError = "server_error"
        /// No complete answer within the timeout.
        case timeout
        /// Connection refused or reset, DNS failure.
        case network
        /// An answer that is not the Bot API's JSON.
        case invalidResponse = "invalid_response"
    }

    public var kind: Kind
    /// HTTP status, when an answer arrived.
    public var status: Int?
    public var message: String
    public var retryAfter: Duration?

    public init(kind: Kind, status: Int? = nil, message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    /// True when the same request may succeed later.
    public var isTransient: Bool {
        switch kind {
        case .chatUnreachable, .rejected: false
        case .rateLimited, .serverError, .timeout, .network, .invalidResponse: true
        }
    }

    public var description: String {
        "Telegram sendMessage failed (\(kind.rawValue)\(status.map { ", HTTP \($0)" } ?? "")): \(message)"
    }
}

/// A Telegram Bot API client (`sendMessage`) over Foundation's URLSession (libcurl on Linux).
///
/// Why URLSession and not async-http-client: it comes with the toolchain (async-http-client would add swift-nio and
/// minutes to every clean CI build), it does TLS through the system's libcurl, and one message per call at ≤ 30/s
/// needs no connection tuning. Its weak spot on Linux is timeouts: `timeoutIntervalForRequest` is an idle timeout
/// and a server that trickles bytes can outlast it, so every call also races a timer of `timeout` that cancels the
/// URLSession task; a server that accepts the connection and never answers fails as `.timeout` after `timeout`.
public struct TelegramClient: MessageSender {
    /// Observes every request (metrics): method, HTTP status or `timeout`/`network`, duration.
    public typealias RequestObserver = @Sendable (_ method: String, _ status: String, _ duration: Duration) -> Void

    private let apiURL: URL
    private let token: String
    private let timeout: Duration
    private let session: URLSession
    private let observe: RequestObserver

    /// - Parameters:
    ///   - apiURL: `https://api.telegram.org`, or a local fake in tests.
    ///   - token: the bot token; used only inside request URLs, never logged or put in errors.
    ///   - timeout: the whole request, connect to last byte (`telegram.timeout`).
    public init(
        apiURL: URL, token: String, timeout: Duration = .seconds(10),
        observe: @escaping RequestObserver = { _, _, _ in }
    ) {
        self.apiURL = apiURL
        self.token = token
        self.timeout = timeout
        self.observe = observe
        let configuration = URLSessionConfiguration.ephemeral
        // A safety net only: on Linux these go to libcurl in whole seconds (a fraction becomes an immediate
        // timeout), so they are set a second above `timeout`; the timer in `perform` enforces `timeout` itself.
        let seconds = (Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18).rounded(.up)
        configuration.timeoutIntervalForRequest = seconds + 1
        configuration.timeoutIntervalForResource = seconds + 1
        configuration.httpMaximumConnectionsPerHost = 8
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
        let result: Message?
        let parameters: Parameters?
        struct Message: Decodable {
            let messageID: Int64?
            enum CodingKeys: String, CodingKey { case messageID = "message_id" }
        }
        struct Parameters: Decodable {
            let retryAfter: Int?
            enum CodingKeys: String, CodingKey { case retryAfter = "retry_after" }
        }
    }

    public func sendMessage(chatID: Int64, text: String) async throws(TelegramError) -> Int64? {
        var request = URLRequest(url: apiURL.appendingPathComponent("bot\(token)/sendMessage"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        do {
            request.httpBody = try JSONEncoder().encode(SendMessage(chatID: chatID, text: text))
        } catch {
            throw TelegramError(kind: .rejected, message: "the message cannot be encoded as JSON")
        }
        let started = ContinuousClock.now
        let data: Data
        let status: Int
        do {
            (data, status) = try await perform(request)
        } catch {
            observe("sendMessage", error.kind == .timeout ? "timeout" : "network", ContinuousClock.now - started)
            throw error
        }
        observe("sendMessage", Self.statusLabel(status), ContinuousClock.now - started)
        return try interpret(status: status, data: data)
    }

    /// Classifies an answer (no I/O; `package` for tests).
    package func interpret(status: Int, data: Data) throws(TelegramError) -> Int64? {
        let answer = try? JSONDecoder().decode(Answer.self, from: data)
        let reason = clean(answer?.description ?? "HTTP \(status)")
        switch status {
        case 200..<300:
            guard let answer, answer.ok else {
                throw TelegramError(kind: .invalidResponse, status: status, message: "not a Bot API answer")
            }
            return answer.result?.messageID
        case 429:
            let seconds = min(3600, max(1, answer?.parameters?.retryAfter ?? 5))
            throw TelegramError(kind: .rateLimited, status: status, message: reason, retryAfter: .seconds(seconds))
        case 403:
            throw TelegramError(kind: .chatUnreachable, status: status, message: reason)
        case 400 where Self.meansUnreachable(reason):
            throw TelegramError(kind: .chatUnreachable, status: status, message: reason)
        case 400..<500:
            throw TelegramError(kind: .rejected, status: status, message: reason)
        case 500..<600:
            throw TelegramError(kind: .serverError, status: status, message: reason)
        default:
            throw TelegramError(kind: .invalidResponse, status: status, message: "unexpected HTTP status: \(reason)")
        }
    }

    static func meansUnreachable(_ description: String) -> Bool {
        let lower = description.lowercased()
        return ["chat not found", "bot was blocked", "user is deactivated", "bot was kicked", "peer_id_invalid"]
            .contains { lower.contains($0) }
    }

    /// The status label of `slotworker_telegram_requests_total`: a known code, else its class (`4xx`, `5xx`,
    /// `other`), so a hostile server cannot create series.
    public static func statusLabel(_ status: Int) -> String {
        if knownStatuses.contains(String(status)) { return String(status) }
        switch status {
        case 400..<500: return "4xx"
        case 500..<600: return "5xx"
        default: return "other"
        }
    }

    /// Every status label, for series created at zero.
    public static let knownStatuses = ["200", "400", "403", "429", "500", "502", "503", "504"]
    public static let statusLabels = knownStatuses + ["4xx", "5xx", "other", "timeout", "network"]

    /// Text from the Bot API made safe for logs and `last_error`: no control characters (NUL included), at most
    /// 200 characters, the token masked.
    func clean(_ text: String) -> String {
        let printable = String(
            String.UnicodeScalarView(
                text.unicodeScalars.filter {
                    !$0.properties.isNoncharacterCodePoint && ($0.value >= 0x20 && $0.value != 0x7F)
                }
            ).prefix(200))
        return printable.replacingOccurrences(of: token, with: "****")
    }

    /// One request, bounded by `timeout` whatever the server does.
    private func perform(_ request: URLRequest) async throws(TelegramError) -> (Data, Int) {
        let host = apiURL.host ?? "api"
        let timeout = self.timeout
        let session = self.session
        do {
            return try await withThrowingTaskGroup(of: (Data, Int)?.self) { group in
                group.addTask { try await Self.dataTask(session, request) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw TelegramError(
                        kind: .timeout, message: "no answer from \(host) within \(timeout)")
                }
                return result
            }
        } catch let error as TelegramError {
            throw error
        } catch let error as URLError where error.code == .timedOut {
            throw TelegramError(kind: .timeout, message: "no answer from \(host) within \(timeout) (URLError -1001)")
        } catch {
            // URLError descriptions carry the URL, which carries the token: report only the error code.
            let code = (error as? URLError)?.code.rawValue ?? -1
            throw TelegramError(kind: .network, message: "request to \(host) failed (URLError \(code))")
        }
    }

    /// A URLSession data task as an async call whose cancellation cancels the task.
    private static func dataTask(_ session: URLSession, _ request: URLRequest) async throws -> (Data, Int) {
        let holder = TaskHolder()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, Int), any Error>) in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(
                            returning: (data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
                    }
                }
                holder.start(task)
            }
        } onCancel: {
            holder.cancel()
        }
    }

    /// Holds a data task so a cancellation that arrives before or after it started cancels it.
    private final class TaskHolder: Sendable {
        private let state = Mutex<(task: URLSessionDataTask?, cancelled: Bool)>((nil, false))

        func start(_ task: URLSessionDataTask) {
            let cancelled = state.withLock { state in
                state.task = task
                return state.cancelled
            }
            task.resume()
            if cancelled { task.cancel() }
        }

        func cancel() {
            let task = state.withLock { state in
                state.cancelled = true
                return state.task
            }
            task?.cancel()
        }
    }
}
