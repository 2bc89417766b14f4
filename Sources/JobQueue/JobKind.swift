/// A job kind bound to its payload type, so enqueueing and handling agree on the payload at compile time.
///
/// ```swift
/// extension JobKind where Payload == ReminderPayload {
///     static let sendReminder = JobKind("send_reminder")
/// }
/// registry.register(.sendReminder) { payload, job in … }
/// try uow.jobs.enqueue(NewJob(.sendReminder, payload: ReminderPayload(slotID: 7)))
/// ```
public struct JobKind<Payload: Codable & Sendable>: Sendable, Hashable {
    /// The `jobs.kind` value.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }
}
