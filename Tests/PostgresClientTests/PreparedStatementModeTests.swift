import Foundation
import PostgresClient
import TestSupport
import Testing

/// How `prepared: true` statements travel in each ``PostgresConfiguration/PreparedStatements`` mode.
@Suite("Prepared statement modes")
struct PreparedStatementModeTests {
    /// `named`: prepared once per connection (visible in `pg_prepared_statements`) and planned per execution;
    /// `unnamed`: nothing is prepared by name, the server's default plan cache mode stays.
    @Test(arguments: PostgresConfiguration.PreparedStatements.allCases)
    func mode(_ mode: PostgresConfiguration.PreparedStatements) async throws {
        var configuration = try await TestDatabase.create(migrated: false)
        configuration.preparedStatements = mode
        #expect(configuration.with(database: "other").preparedStatements == mode)
        let connection = try await PostgresConnection.connect(configuration)
        for value in [1, 2, 3] {
            let rows = try await connection.query("SELECT $1::int8 + 1 AS n", [value], prepared: true)
            #expect(try rows[0].decode("n", as: Int.self) == value + 1)
        }
        let prepared: Int = try await connection.query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'sw_%'")[0].decode("n")
        let planCache: String = try await connection.query("SHOW plan_cache_mode")[0].decode(at: 0)
        switch mode {
        case .named:
            #expect(prepared == 1)
            #expect(planCache == "force_custom_plan")
        case .unnamed:
            #expect(prepared == 0)
            #expect(planCache == "auto")
        }
        await connection.close()
    }
}
