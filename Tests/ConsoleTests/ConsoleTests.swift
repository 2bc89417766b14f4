import Foundation
import HTTPServer
import JobQueue
import Logging
import PostgresClient
import TestSupport
import Testing

@testable import Console

let quiet = Logger(label: "console.test", factory: { _ in SwiftLogNoOpLogHandler() })

func get(_ console: Console, _ target: String, cookie: String? = nil) async -> HTTPResponse {
    let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
    var headers = HTTPHeaders()
    if let cookie { headers.add(name: "Cookie", value: cookie) }
    return await console.handle(
        HTTPRequest(method: "GET", path: parts[0], query: parts.count > 1 ? parts[1] : nil, headers: headers))
}

func post(_ console: Console, _ path: String, _ body: String, cookie: String? = nil) async -> HTTPResponse {
    var headers = HTTPHeaders()
    if let cookie { headers.add(name: "Cookie", value: cookie) }
    return await console.handle(HTTPRequest(method: "POST", path: path, headers: headers, body: Array(body.utf8)))
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// The console's pages and actions against a real database (handlers called directly; the HTTP path is covered
/// by the HTTPServer mount tests and the browser test).
@Suite("Console")
struct ConsoleTests {
    @Test func formatsCountsAndTimes() {
        #expect(
            [0, 999, 1000, 1_234_567, -1000].map { Format.count($0, estimated: false) }
                == ["0", "999", "1,000", "1,234,567", "-1,000"])
        #expect(Format.count(1_000_000, estimated: true) == "≈1,000,000")
        #expect(Format.time(Date(timeIntervalSince1970: 1_796_130_300)) == "2026-12-01T13:05:00Z")
        #expect(Format.time(nil) == "—")
    }

    @Test func formDataDecodesPercentAndPlus() {
        let form = FormData("state=dead&kind=a%2Bb+c&ids=1&ids=2&bad=%zz&=x&empty=")
        #expect(form["state"] == "dead")
        #expect(form["kind"] == "a+b c")
        #expect(form.all("ids") == ["1", "2"])
        #expect(form["bad"] == nil && form["empty"] == nil)
        #expect(FormData.encode("a b/ü") == "a%20b%2F%C3%BC")
    }

    @Test func refusesNonLoopbackWithoutTokenAndIsReadOnlyWithoutOne() async throws {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: 2)
        let exposed = Console(pool: pool, configuration: ConsoleConfiguration(listenHost: "0.0.0.0"), logger: quiet)
        for path in ["/ui", "/ui/jobs", "/ui/console.js"] {
            let response = await get(exposed, path)
            #expect(response.status == 403)
            #expect(response.text.contains("console.admin_token"))
        }
        let guarded = Console(
            pool: pool, configuration: ConsoleConfiguration(adminToken: "t", listenHost: "0.0.0.0"), logger: quiet)
        #expect(await get(guarded, "/ui").status == 303)

        let readOnly = Console(pool: pool, configuration: ConsoleConfiguration(), logger: quiet)
        for path in ["/ui", "/ui/jobs", "/ui/jobs?state=dead", "/ui/periodic", "/ui/workers", "/ui/reminders"] {
            let response = await get(readOnly, path)
            #expect(response.status == 200, "\(path): \(response.text)")
            #expect(!response.text.contains("method=\"post\""), "\(path) has a form")
            #expect(response.headers["Content-Security-Policy"]?.contains("script-src 'self'") == true)
        }
        #expect(await post(readOnly, "/ui/queues/pause", "queue=default").status == 403)
        #expect(await get(readOnly, "/ui/jobs?state=bogus").status == 400)
        #expect(await get(readOnly, "/ui/jobs/999").status == 404)
        await pool.close()
    }

    @Test func loginCSRFActionsAndEscaping() async throws {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: 2)
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, state, finished_at, last_error, payload)
            SELECT '<b>k</b>', 'dead', now(), '<script>alert(1)</script>', '{"secret": "<i>p</i>"}'
            FROM generate_series(1, 12)
            """)
        let console = Console(
            pool: pool, configuration: ConsoleConfiguration(adminToken: "s3cret", exactCountLimit: 5), logger: quiet)
        #expect(await get(console, "/ui").headers["Location"] == "/ui/login")
        #expect(await post(console, "/ui/login", "token=wrong").status == 403)
        let login = await post(console, "/ui/login", "token=s3cret")
        #expect(login.status == 303)
        let setCookie = try #require(login.headers["Set-Cookie"])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        let cookie = String(setCookie.prefix { $0 != ";" })

        let overview = await get(console, "/ui", cookie: cookie)
        #expect(overview.status == 200)
        #expect(overview.text.contains("≈"), "12 jobs with an exact-count limit of 5 are estimated")
        let list = await get(console, "/ui/jobs?state=dead", cookie: cookie)
        #expect(!list.text.contains("<script>alert") && !list.text.contains("<b>k</b>"))
        #expect(list.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        let detail = await get(console, "/ui/jobs/1", cookie: cookie)
        #expect(!detail.text.contains("secret"), "payloads are hidden by default")
        let csrf = try #require(
            overview.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/).map { String($0.1) })

        #expect(await post(console, "/ui/queues/pause", "queue=default", cookie: cookie).status == 403)
        #expect(await post(console, "/ui/queues/pause", "queue=default&csrf=\(csrf)").status == 403)
        let paused = await post(console, "/ui/queues/pause", "queue=default&csrf=\(csrf)", cookie: cookie)
        #expect(paused.status == 303)
        #expect(try await pool.query("SELECT queue FROM paused_queues").count == 1)

        let confirm = await post(console, "/ui/jobs/action", "csrf=\(csrf)&op=retry:filter&state=dead", cookie: cookie)
        #expect(confirm.text.contains("Retry 12 of all jobs matching the filter"), "\(confirm.text)")
        #expect(try await pool.query("SELECT id FROM jobs WHERE state = 'dead'").count == 12, "nothing before confirm")
        let done = await post(
            console, "/ui/jobs/action", "csrf=\(csrf)&op=retry:filter&state=dead&confirm=1", cookie: cookie)
        #expect(done.status == 303)
        #expect(try await pool.query("SELECT id FROM jobs WHERE state = 'available'").count == 12)
        let everything = await post(console, "/ui/jobs/action", "csrf=\(csrf)&op=delete:filter", cookie: cookie)
        #expect(everything.status == 400, "acting on every job needs a filter")
        await pool.close()
    }

    @Test func bulkActionsRunInBatches() async throws {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: 2)
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, state, finished_at, unique_key)
            SELECT 'noop', 'dead', now(), CASE WHEN i <= 2 THEN 'same' END FROM generate_series(1, 20) AS i
            """)
        let operations = JobOperations(pool: pool)
        let filter = JobFilter(states: [.dead])
        #expect(try await operations.count(.retry, filter) == 20)
        let retried = try await operations.perform(.retry, filter, batchSize: 7)
        // Two dead jobs share a unique key: only one of them can be live again.
        #expect(retried.changed == 19 && retried.seen == 20 && retried.batches == 3, "\(retried)")
        let cancelled = try await operations.perform(.cancel, JobFilter(states: [.available]), batchSize: 7)
        #expect(cancelled.changed == 19 && cancelled.batches == 3)
        let deleted = try await operations.perform(.delete, JobFilter(kind: "noop"))
        #expect(deleted.changed == 20)
        #expect(try await pool.query("SELECT id FROM jobs").isEmpty)
        await pool.close()
    }

    /// A list page reads a bounded window of ids: a filter matching only an old job says how far it searched and
    /// links to the next window, which skips a stretch of deleted ids, until the match is found; the last window
    /// has no link; full pages and id lookups are not bounded by the window.
    @Test func listSearchesBoundedWindowsAndContinues() async throws {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: 2)
        // Ids 1…30: the oldest is the only `rare` one; 11…20 are deleted (pruned, say).
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, state, finished_at)
            SELECT CASE WHEN i = 1 THEN 'rare' ELSE 'noop' END, 'succeeded', now() FROM generate_series(1, 30) AS i
            """)
        let ids: [Int64] = try await pool.query("SELECT id FROM jobs ORDER BY id").map { try $0.decode("id") }
        _ = try await pool.query("DELETE FROM jobs WHERE id = ANY ($1::int8[])", [Array(ids[10..<20])])
        let operations = JobOperations(pool: pool)
        let rare = JobFilter(kind: "rare")

        let first = try await operations.list(rare, limit: 5, window: 10)
        #expect(first.jobs.isEmpty && first.searchedDownTo == ids[29] + 1 - 10, "\(first)")
        // The next window starts at the newest id below the searched ones: id 10, past the deleted stretch.
        #expect(first.next == ids[9] + 1, "\(first)")
        let second = try await operations.list(rare, before: try #require(first.next), limit: 5, window: 10)
        #expect(second.jobs.map(\.id) == [ids[0]] && second.next == nil && second.searchedDownTo == nil, "\(second)")

        let full = try await operations.list(JobFilter(), limit: 5, window: 10)
        #expect(
            full.jobs.map(\.id) == Array(ids[25...].reversed()) && full.next == ids[25] && full.searchedDownTo == nil)
        let byID = try await operations.list(JobFilter(ids: [ids[0]]), limit: 5, window: 10)
        #expect(byID.jobs.map(\.id) == [ids[0]] && byID.next == nil)
        #expect(try await operations.list(JobFilter(kind: "nope"), before: ids[0] + 1, window: 10).next == nil)

        // The console says what it searched and its link finds the match.
        let console = Console(pool: pool, configuration: ConsoleConfiguration(listWindow: 10), logger: quiet)
        let page = await get(console, "/ui/jobs?kind=rare")
        #expect(page.status == 200)
        #expect(page.text.contains("id=\"searched\"") && !page.text.contains("id=\"no-jobs\""), "\(page.text)")
        let link = try #require(
            page.text.firstMatch(of: /id="continue" href="([^"]+)"/)?.1, "no continue link: \(page.text)")
        let continued = await get(console, String(link).replacingOccurrences(of: "&amp;", with: "&"))
        #expect(continued.text.contains("href=\"/ui/jobs/\(ids[0])\""), "\(continued.text)")
        #expect(!continued.text.contains("id=\"continue\"") && !continued.text.contains("id=\"older\""))
        await pool.close()
    }

    /// The overview's bounded reads give the exact answers: each queue's oldest ready job across priorities (the
    /// skip scan of the claim index) and the last 10 minutes' completions of every finished state.
    @Test func overviewOldestReadyAndCompletions() async throws {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: 2)
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, queue, priority, run_at)
            SELECT 'noop', (ARRAY['a', 'b'])[1 + i % 2], (i % 3)::int2, now() - i * interval '1 minute'
            FROM generate_series(1, 12) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, queue, state, finished_at)
            SELECT 'noop', 'a', (ARRAY['succeeded', 'dead', 'cancelled'])[1 + i % 3], now() - i * interval '1 minute'
            FROM generate_series(0, 14) AS i
            """)
        let queries = ConsoleQueries(operations: JobOperations(pool: pool), exactCountLimit: 100_000)
        let overview = try await queries.overview()
        let rows = Dictionary(uniqueKeysWithValues: overview.queues.map { ($0.queue, $0) })
        // Queue a holds i = 2, 4, …, 12 (oldest 12 minutes, priority 0), b holds 1, 3, …, 11 (oldest 11, priority 2).
        let a = try #require(rows["a"]?.oldestReadySeconds)
        let b = try #require(rows["b"]?.oldestReadySeconds)
        #expect(abs(a - 720) < 30 && abs(b - 660) < 30, "\(a) \(b)")
        // Finished 0…14 minutes ago: those of the last 10 minutes (0…9) land in their minute, whatever their state.
        #expect(rows["a"]?.completions.reduce(0, +) == 10, "\(rows["a"]?.completions ?? [])")
        #expect(rows["a"]?.counts[.dead] == 5 && rows["b"]?.counts[.available] == 6)
        await pool.close()
    }
}
