public import Logging

/// Used when no bot token is configured (the demo): logs each message — chat id and full text — instead of
/// sending it.
public struct LoggingMessageSender: MessageSender {
    let logger: Logger
    public init(logger: Logger) { self.logger = logger }

    public func sendMessage(chatID: Int64, text: String) async throws(TelegramError) -> Int64? {
        logger.notice(
            "message (no Telegram bot token configured, logged instead of sent)",
            metadata: ["telegram.chat_id": "\(chatID)", "message.text": "\(text)"]
        )
        return nil
    }
}
