public import Logging

/// Used when no bot token is configured (the demo): logs the message instead of sending it.
public struct LoggingMessageSender: MessageSender {
    let logger: Logger
    public init(logger: Logger) { self.logger = logger }

    public func sendMessage(chatID: Int64, text: String) async throws {
        logger.notice(
            "no Telegram bot token configured; message not sent",
            metadata: ["telegram.chat_id": "\(chatID)", "message.length": "\(text.count)"]
        )
    }
}
