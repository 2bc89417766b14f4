public import Domain
import Foundation
public import Persistence
public import PostgresClient

/// How ``SlotEvent`` maps to `slot_events`.
public enum SlotEventTable: TableMapping {
    public typealias Model = SlotEvent
    public typealias ID = Int64

    public static let repositoryName = "slot_events"
    public static let entityName = "SlotEvent"
    public static let table = "slot_events"
    public static let writableColumns = ["slot_id", "kind", "candidate_telegram_id"]
    /// `created_at` is set by the database and never written.
    public static let readableColumns = ["id", "slot_id", "kind", "candidate_telegram_id", "created_at"]

    public static func id(of model: SlotEvent) -> Int64? { model.id }

    public static func binds(_ model: SlotEvent) -> [any PostgresEncodable] {
        [model.slotID, model.kind.rawValue, model.candidateTelegramID]
    }

    public static func decode(_ row: PostgresRow) throws -> SlotEvent {
        SlotEvent(
            id: try row.decode("id", as: Int64.self),
            slotID: try row.decode("slot_id", as: Int64.self),
            kind: try row.decode("kind", as: SlotEventKind.self),
            candidateTelegramID: try row.decode("candidate_telegram_id", as: Int64?.self),
            createdAt: try row.decode("created_at", as: Date?.self)
        )
    }
}

/// The slots' event log: the generic CRUD plus ``Repository/getForSlot(_:)``.
public typealias SlotEventRepository = Repository<SlotEventTable>

extension Repository where Mapping == SlotEventTable {
    /// The slot's events, oldest first; empty when none.
    public func getForSlot(_ slotID: Int64) async -> Result<[SlotEvent], RepositoryError> {
        await fetch(
            "get_for_slot",
            "SELECT \(SlotEventTable.selectList) FROM slot_events WHERE slot_id = $1 ORDER BY id",
            [slotID]
        )
    }
}

extension UnitOfWork {
    /// The slots' event log in this Unit of Work's transaction.
    public var slotEvents: SlotEventRepository { repository(SlotEventTable.self) }
}
