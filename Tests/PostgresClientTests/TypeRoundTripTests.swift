import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("Type round trips")
struct TypeRoundTripTests {
    struct Payload: Codable, Equatable, Sendable {
        var name: String
        var tags: [String]
        var nested: [String: Int]
    }

    @Test func everySupportedTypeRoundTrips() async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        let date = Date(timeIntervalSince1970: 1_790_000_000.123456)
        let uuid = UUID()
        let bytes = Data([0, 1, 2, 0xfe, 0xff, 0x5c])
        let payload = Payload(name: "Zoë \"q\" \\ ✓", tags: ["a", "b"], nested: ["x": 1])
        let rows = try await pool.query(
            """
            SELECT $1::int8 AS i8, $2::int4 AS i4, $3::text AS t, $4::bool AS b, $5::float8 AS f,
                   $6::numeric AS n, $7::timestamptz AS ts, $8::jsonb AS j, $9::uuid AS u, $10::bytea AS by,
                   $11::int8[] AS ia, $12::text[] AS ta, $13::text AS nul, $14::int8 AS nulint
            """,
            [
                Int64.max, Int32.min, "plain", true, 3.25, Decimal(string: "12345.678901")!, date,
                PostgresJSON(payload), uuid, bytes, [Int64(1), -2, 3], ["x", "y z", "q\"uo\\te", "NULL", ""],
                String?.none, Int?.none,
            ]
        )
        let row = rows[0]
        #expect(try row.decode("i8", as: Int64.self) == Int64.max)
        #expect(try row.decode("i4", as: Int32.self) == Int32.min)
        #expect(try row.decode("t", as: String.self) == "plain")
        #expect(try row.decode("b", as: Bool.self) == true)
        #expect(try row.decode("f", as: Double.self) == 3.25)
        #expect(try row.decode("n", as: Decimal.self) == Decimal(string: "12345.678901")!)
        let decodedDate = try row.decode("ts", as: Date.self)
        #expect(abs(decodedDate.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
        #expect(try row.decode("j", as: PostgresJSON<Payload>.self).value == payload)
        #expect(try row.decode("u", as: UUID.self) == uuid)
        #expect(try row.decode("by", as: Data.self) == bytes)
        #expect(try row.decode("ia", as: [Int64].self) == [1, -2, 3])
        #expect(try row.decode("ta", as: [String].self) == ["x", "y z", "q\"uo\\te", "NULL", ""])
        #expect(try row.decode("nul", as: String?.self) == nil)
        #expect(try row.decode("nulint", as: Int?.self) == nil)
        #expect(try row.decode("i8", as: Int64?.self) == Int64.max)
    }

    @Test(arguments: ["", "O'Brien", "quote \" and backslash \\ and \\\\", "юникод ✓ 🎉", "line\nbreak\ttab", "$1"])
    func textParametersTravelUnchanged(_ text: String) async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        let rows = try await pool.query("SELECT $1::text AS t, length($1::text) AS n", [text])
        #expect(try rows[0].decode("t", as: String.self) == text)
        #expect(try rows[0].decode("n", as: Int.self) == text.count)
    }

    @Test func timestampsDecodeInAnySessionTimeZone() async throws {
        let pool = try await TestDatabase.pool(migrated: false, maxConnections: 1)
        let date = Date(timeIntervalSince1970: 1_800_000_000.5)
        try await pool.withConnection { connection in
            try await connection.execute("SET TIME ZONE 'Asia/Kolkata'")
            let rows = try await connection.query("SELECT $1::timestamptz AS ts", [date])
            #expect(try rows[0].decode("ts", as: Date.self) == date)
            try await connection.execute("RESET TIME ZONE")
        }
    }

    @Test func nulByteInTextIsAClearError() async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        let error = await #expect(throws: PostgresError.self) {
            _ = try await pool.query("SELECT $1::text", ["a\u{0}b"])
        }
        #expect(error?.kind == .invalidParameter)
        #expect(error?.message.contains("NUL") == true)
    }

    @Test func nullIntoNonOptionalNamesTheColumn() async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        let rows = try await pool.query("SELECT NULL::int8 AS missing, 'x'::text AS word")
        let nullError = #expect(throws: PostgresError.self) { _ = try rows[0].decode("missing", as: Int.self) }
        #expect(nullError?.kind == .decoding)
        #expect(nullError?.message.contains("\"missing\"") == true)
        let typeError = #expect(throws: PostgresError.self) { _ = try rows[0].decode("word", as: Int.self) }
        #expect(typeError?.message.contains("\"word\"") == true)
        let unknown = #expect(throws: PostgresError.self) { _ = try rows[0].decode("nope", as: Int.self) }
        #expect(unknown?.message.contains("nope") == true)
    }
}
