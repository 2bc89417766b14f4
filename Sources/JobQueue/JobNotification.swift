import Foundation

/// The job queue's NOTIFY messages on channel ``channel``.
///
/// Statements that make jobs ready send one notification per queue and statement (never per row), inside their
/// own transaction, so it is delivered only if the jobs commit:
/// `{"queue":"default","available":120,"scheduled":0}`. An operator cancelling a running job sends
/// `{"cancel":42}` so the worker running it stops the handler at once.
package struct JobNotification: Sendable, Equatable, Codable {
    /// The LISTEN/NOTIFY channel of the job queue.
    package static let channel = "slotworker_jobs"

    /// The queue whose jobs changed.
    package var queue: String?
    /// Jobs that became ready.
    package var available: Int?
    /// Jobs that were scheduled for later (runners re-arm their timers).
    package var scheduled: Int?
    /// A job that was cancelled while it may be running.
    package var cancel: Int64?
    /// Some jobs became ready with a `run_at` in the past at a key this notification does not carry (retried,
    /// released, rescued, or enqueued for a past time): they may sort before where runners' claims start (see
    /// `ClaimFloor`).
    package var requeued: Bool?
    /// The most urgent (lowest) priority among the jobs made ready (enqueued or promoted).
    package var priority: Int?
    /// The earliest `run_at` (epoch seconds) among the jobs made ready (enqueued or promoted): an enqueue that
    /// commits after a runner's claim, or a promotion, may sort below the floor that claim set (see `ClaimFloor`).
    /// JSON key `run_at`.
    package var runAt: Double?

    enum CodingKeys: String, CodingKey {
        case queue, available, scheduled, cancel, requeued, priority
        case runAt = "run_at"
    }

    package init(
        queue: String? = nil,
        available: Int? = nil,
        scheduled: Int? = nil,
        cancel: Int64? = nil,
        requeued: Bool? = nil,
        priority: Int? = nil,
        runAt: Double? = nil
    ) {
        self.queue = queue
        self.available = available
        self.scheduled = scheduled
        self.cancel = cancel
        self.requeued = requeued
        self.priority = priority
        self.runAt = runAt
    }

    /// Parses a payload; nil for text that is not a job-queue notification.
    package init?(payload: String) {
        guard let value = try? JSONDecoder().decode(JobNotification.self, from: Data(payload.utf8)) else {
            return nil
        }
        self = value
    }
}
