public import Domain
public import Foundation
public import Persistence
import PostgresClient

/// The queries of the background tasks: batch state changes in one `UPDATE … RETURNING` each.
///
/// The batch updates lock their rows with `FOR UPDATE SKIP LOCKED`: rows another transaction holds (a booking in
/// progress, another worker's batch) are left for the next run instead of waited for, so two workers never
/// block each other or process the same slot twice.
extension Repository where Mapping == SlotTable {
    /// Frees up to `limit` RESERVED slots whose `reserved_until` is before `now` (oldest deadline first): status
    /// FREE, candidate and deadline cleared, and a `released` event naming the candidate, in one statement.
    /// Returns the transitions, by slot id ascending.
    ///
    /// `.validation(field: "limit")` unless `limit > 0`.
    public func releaseLapsedReservations(now: Date, limit: Int) async -> Result<[SlotTransition], RepositoryError> {
        await run("release_lapsed_reservations") { connection in
            guard limit > 0 else { throw RepositoryError.validation(field: "limit", message: "limit must be positive") }
            let rows = try await connection.query(
                """
                WITH lapsed AS (
                    SELECT id, status, candidate_telegram_id FROM slots
                    WHERE status = 'RESERVED' AND reserved_until < $1
                    ORDER BY reserved_until, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                ), changed AS (
                    UPDATE slots SET status = 'FREE', candidate_telegram_id = NULL, reserved_until = NULL
                    FROM lapsed WHERE slots.id = lapsed.id
                    RETURNING slots.id
                ), events AS (
                    INSERT INTO slot_events (slot_id, kind, candidate_telegram_id)
                    SELECT lapsed.id, 'released', lapsed.candidate_telegram_id
                    FROM lapsed JOIN changed ON changed.id = lapsed.id
                )
                SELECT lapsed.id, lapsed.status, lapsed.candidate_telegram_id
                FROM lapsed JOIN changed ON changed.id = lapsed.id
                ORDER BY lapsed.id
                """,
                [now, limit],
                prepared: true,
                operation: "release_lapsed_reservations"
            )
            return try rows.map { try Self.transition($0, to: .free) }
        }
    }

    /// Marks up to `limit` FREE or RESERVED slots whose start is before `now` EXPIRED (earliest start first),
    /// clearing any reservation deadline, with an `expired` event each, in one statement; the candidate of a
    /// lapsed reservation stays for history. Returns the transitions, by slot id ascending. BOOKED and CONFIRMED
    /// slots never expire.
    ///
    /// `.validation(field: "limit")` unless `limit > 0`.
    public func expirePast(now: Date, limit: Int) async -> Result<[SlotTransition], RepositoryError> {
        await run("expire_past") { connection in
            guard limit > 0 else { throw RepositoryError.validation(field: "limit", message: "limit must be positive") }
            let rows = try await connection.query(
                """
                WITH past AS (
                    SELECT id, status, candidate_telegram_id FROM slots
                    WHERE status IN ('FREE', 'RESERVED') AND starts_at < $1
                    ORDER BY starts_at, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                ), changed AS (
                    UPDATE slots SET status = 'EXPIRED', reserved_until = NULL
                    FROM past WHERE slots.id = past.id
                    RETURNING slots.id
                ), events AS (
                    INSERT INTO slot_events (slot_id, kind, candidate_telegram_id)
                    SELECT past.id, 'expired', past.candidate_telegram_id
                    FROM past JOIN changed ON changed.id = past.id
                )
                SELECT past.id, past.status, past.candidate_telegram_id
                FROM past JOIN changed ON changed.id = past.id
                ORDER BY past.id
                """,
                [now, limit],
                prepared: true,
                operation: "expire_past"
            )
            return try rows.map { try Self.transition($0, to: .expired) }
        }
    }

    /// Slots per status, every status present (0 when none): one `GROUP BY` over `slots_status_starts_at_idx`.
    public func countByStatus() async -> Result<[SlotStatus: Int], RepositoryError> {
        await run("count_by_status") { connection in
            let rows = try await connection.query(
                "SELECT status, count(*)::int8 AS n FROM slots GROUP BY status",
                prepared: true,
                operation: "count_by_status"
            )
            var counts = Dictionary(uniqueKeysWithValues: SlotStatus.allCases.map { ($0, 0) })
            for row in rows {
                counts[try row.decode("status", as: SlotStatus.self)] = try row.decode("n", as: Int.self)
            }
            return counts
        }
    }

    private static func transition(_ row: PostgresRow, to: SlotStatus) throws -> SlotTransition {
        SlotTransition(
            slotID: try row.decode("id", as: Int64.self),
            from: try row.decode("status", as: SlotStatus.self),
            to: to,
            candidateTelegramID: try row.decode("candidate_telegram_id", as: Int64?.self)
        )
    }
}
