public import Domain
public import Foundation
import JobQueue
public import Persistence

/// Schedules a booked slot's reminders as delayed `reminders.send` jobs inside the booking's Unit of Work, so
/// the reminders exist exactly when the booking commits. Use ``hook`` as `SlotBookingService`'s `afterConfirm`
/// (its `Hook` type, spelled out here so Tasks need not depend on Services).
public enum ReminderScheduler {
    /// The reminders and how long before the interview each is sent.
    public static let kinds: [(name: String, before: Duration)] = [("24h", .seconds(86_400)), ("2h", .seconds(7200))]

    /// Enqueues the reminders whose send time is still in the future; unique key `reminder:<slot>:<kind>`.
    public static func schedule(_ uow: UnitOfWork, slot: Slot, now: Date = Date()) async -> Result<
        Void, RepositoryError
    > {
        guard let slotID = slot.id else {
            return .failure(.validation(field: "id", message: "cannot schedule reminders for an unsaved slot"))
        }
        var jobs: [NewJob] = []
        for kind in kinds {
            let sendAt = slot.startsAt.addingTimeInterval(-Double(kind.before.components.seconds))
            guard sendAt > now else { continue }
            do {
                jobs.append(
                    try NewJob(
                        SlotTasks.sendReminder,
                        payload: ReminderPayload(slotID: slotID, kind: kind.name),
                        schedule: .at(sendAt),
                        uniqueKey: "reminder:\(slotID):\(kind.name)"
                    )
                )
            } catch {
                return .failure(.validation(field: "payload", message: "\(error)"))
            }
        }
        guard !jobs.isEmpty else { return .success(()) }
        return await uow.jobs.enqueue(jobs).map { _ in () }
    }

    /// The booking hook (`SlotBookingService<Database>.Hook`): schedules reminders after a reservation is confirmed.
    public static let hook: @Sendable (UnitOfWork, Slot) async -> Result<Void, RepositoryError> = { uow, slot in
        await schedule(uow, slot: slot)
    }
}
