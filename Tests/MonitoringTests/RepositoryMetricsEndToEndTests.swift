import Domain
import Foundation
import HTTPServer
import Logging
import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient
import Repositories
import TestSupport
import Testing

@Suite("Repository metrics end to end: real PostgreSQL, scraped over HTTP")
struct RepositoryMetricsEndToEndTests {
    /// Drives real repository calls — successes and each failure class — then scrapes `/metrics` through the
    /// HTTP server and checks that exactly the expected counters and histogram counts moved, and nothing else.
    @Test func exactlyTheExpectedSeriesMove() async throws {
        let registry = makeRegistry()
        let metrics = RepositoryMetrics(registry: registry)
        RepositoryCatalog.prepare(metrics)
        let database = Database(pool: try await TestDatabase.pool(), observer: metrics, logger: quietLogger)
        let server = HTTPServer(
            logger: quietLogger,
            handler: MonitoringEndpoints(registry: registry, health: HealthState(checks: [])).handler
        )
        let port = try server.start()
        let scrape = { () async throws -> Exposition in
            let response = try await onThread {
                try httpRequest(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            }
            let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            return try Exposition(body)
        }
        let before = try await scrape()

        // Success ×2 (add, get), not_found (get), conflict (add with a taken chat id), committed.
        try await database.withUnitOfWork { uow in
            let added = try await uow.recruiters.add(Recruiter(name: "Ada", telegramChatID: 1)).get()
            _ = try await uow.recruiters.get(added.id!).get()
            #expect(await uow.recruiters.get(987_654).failure?.errorClass == .notFound)
            try await uow.commit()
        }
        try await database.withUnitOfWork { uow in
            #expect(
                await uow.recruiters.add(Recruiter(name: "Bob", telegramChatID: 1)).failure?.errorClass == .conflict)
        }
        // validation: an unknown time zone (a CHECK-style trigger), rolled back.
        try await database.withUnitOfWork { uow in
            #expect(
                await uow.cities.add(City(name: "Nowhere", timeZone: "Mars/Olympus")).failure?.errorClass == .validation
            )
        }
        // database: the Unit of Work is used after its commit.
        try await database.withUnitOfWork { uow in
            try await uow.commit()
            #expect(await uow.cities.count().failure?.errorClass == .database)
        }
        let after = try await scrape()
        await server.stop()

        func delta(_ name: String, _ labels: [String: String]) -> Double {
            (after.value(name, labels) ?? -1_000) - (before.value(name, labels) ?? 0)
        }
        let duration = "slotworker_repository_operation_duration_seconds_count"
        let failures = "slotworker_repository_operation_failures_total"
        let expected: [(String, [String: String], Double)] = [
            (duration, ["repository": "recruiters", "operation": "add"], 2),
            (duration, ["repository": "recruiters", "operation": "get"], 2),
            (duration, ["repository": "cities", "operation": "add"], 1),
            (duration, ["repository": "cities", "operation": "count"], 1),
            (failures, ["repository": "recruiters", "error": "not_found"], 1),
            (failures, ["repository": "recruiters", "error": "conflict"], 1),
            (failures, ["repository": "cities", "error": "validation"], 1),
            (failures, ["repository": "cities", "error": "database"], 1),
            ("slotworker_transactions_total", ["outcome": "committed"], 2),
            ("slotworker_transactions_total", ["outcome": "rolled_back"], 2),
            ("slotworker_transactions_total", ["outcome": "failed"], 0),
            ("slotworker_transaction_duration_seconds_count", [:], 4),
        ]
        for (name, labels, value) in expected {
            #expect(delta(name, labels) == value, "\(name) \(labels)")
        }
        // Nothing else moved: every other repository series has the same value as before.
        let moved = Set(expected.map { "\($0.0)\($0.1.sorted { $0.key < $1.key })" })
        for sample in after.samples
        where sample.name.hasPrefix("slotworker_repository_") && sample.name.hasSuffix("_count")
            || sample.name == failures
        {
            let key = "\(sample.name)\(sample.labels.sorted { $0.key < $1.key })"
            if !moved.contains(key) {
                #expect(sample.value == before.value(sample.name, sample.labels), "\(key) moved unexpectedly")
            }
        }
    }
}
