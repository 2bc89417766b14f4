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
    /// FREE, candidate and deadline cleared. Returns the released ids, ascending.
    ///
    /// `.validation(field: "limit")` unless `limit > 0`.
    public func releaseLapsedReservations(now: Date, limit: Int) async -> Result<[Int64], RepositoryError> {
        await run("release_lapsed_reservations") { connection in
            guard limit > 0 else { throw RepositoryError.validation(field: "limit", message: "limit must be positive") }
            let rows = try await connection.query(
                """
                WITH lapsed AS (
                    SELECT id FROM slots
                    WHERE status = 'RESERVED' AND reserved_until < $1
                    ORDER BY reserved_until, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE slots SET status = 'FREE', candidate_telegram_id = NULL, reserved_until = NULL
                FROM lapsed WHERE slots.id = lapsed.id
                RETURNING slots.id
                """,
                [now, limit],
                prepared: true,
                operation: "release_lapsed_reservations"
            )
            return try rows.map { try $0.decode("id", as: Int64.self) }.sorted()
        }
    }

    /// Marks up to `limit` FREE or RESERVED slots whose start is before `now` EXPIRED (earliest start first),
    /// clearing any reservation deadline; the candidate of a lapsed reservation stays for history. Returns the
    /// expired ids, ascending. BOOKED and CONFIRMED slots never expire.
    ///
    /// `.validation(field: "limit")` unless `limit > 0`.
    public func expirePast(now: Date, limit: Int) async -> Result<[Int64], RepositoryError> {
        await run("expire_past") { connection in
            guard limit > 0 else { throw RepositoryError.validation(field: "limit", message: "limit must be positive") }
            let rows = try await connection.query(
                """
                WITH past AS (
                    SELECT id FROM slots
                    WHERE status IN ('FREE', 'RESERVED') AND starts_at < $1
                    ORDER BY starts_at, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE slots SET status = 'EXPIRED', reserved_until = NULL
                FROM past WHERE slots.id = past.id
                RETURNING slots.id
                """,
                [now, limit],
                prepared: true,
                operation: "expire_past"
            )
            return try rows.map { try $0.decode("id", as: Int64.self) }.sorted()
        }
    }

    /// BOOKED and CONFIRMED slots starting in `[from, to)`, with recruiter and city (for the reminder's text and
    /// the city's time zone), ordered by start then id; at most `limit`.
    ///
    /// `.validation(field: "limit")` unless `limit > 0`.
    public func upcomingBooked(from: Date, to: Date, limit: Int = 1000) async
        -> Result<[SlotWithRelations], RepositoryError>
    {
        await run("upcoming_booked") { connection in
            guard limit > 0 else { throw RepositoryError.validation(field: "limit", message: "limit must be positive") }
            let rows = try await connection.query(
                SlotTable.selectWithRelations
                    + """

                    WHERE s.status IN ('BOOKED', 'CONFIRMED') AND s.starts_at >= $1 AND s.starts_at < $2
                    ORDER BY s.starts_at, s.id
                    LIMIT $3
                    """,
                [from, to, limit],
                prepared: true,
                operation: "upcoming_booked"
            )
            return try rows.map(SlotTable.decodeWithRelations)
        }
    }
}
