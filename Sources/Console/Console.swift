import Foundation
public import HTTPServer
public import JobQueue
public import Logging
public import PostgresClient

/// The operator's web console: server-rendered HTML mounted on the monitoring server (``mount``), answering from
/// the database through an ``AsyncHTTPHandler`` (never on libmicrohttpd's threads).
///
/// Pages (GET): overview, job list (filters, keyset pagination), job detail, periodic jobs, workers, reminders.
/// Actions (POST, logged-in session and its CSRF token): retry, cancel or delete selected jobs or all matching a
/// filter (a confirmation page shows the count first; batches of at most 5,000 jobs per transaction), pause and
/// resume a queue.
///
/// Safe by default: without an admin token the console is read-only (no forms, every POST is 403); with a token
/// every page needs a login (`POST /ui/login`, an HttpOnly SameSite=Strict session cookie); on a non-loopback
/// listen address without a token it answers 403 to everything. Every query has a statement timeout.
public struct Console: Sendable {
    public let configuration: ConsoleConfiguration
    let operations: JobOperations
    let queries: ConsoleQueries
    let reminders: ReminderQueries
    let sessions = ConsoleSessions()
    let logger: Logger

    static let cookie = "slotworker_console"
    static let confirmCap = 1_000_000

    /// - Parameter registry: the worker's kinds, for their attempt limits when jobs are retried.
    public init(
        pool: PostgresPool, configuration: ConsoleConfiguration, registry: JobRegistry = JobRegistry(), logger: Logger
    ) {
        self.configuration = configuration
        operations = JobOperations(
            pool: pool, statementTimeout: configuration.statementTimeout, registry: registry)
        queries = ConsoleQueries(operations: operations, exactCountLimit: configuration.exactCountLimit)
        reminders = ReminderQueries(operations: operations)
        self.logger = logger
    }

    /// The console as a mount of the monitoring server.
    public var mount: HTTPMount {
        HTTPMount(prefix: configuration.prefix) { request in await self.handle(request) }
    }

    /// Answers one request under the prefix.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if let refusal = configuration.refusal { return Self.page(status: 403, HTML.text(refusal + "\n")) }
        let path = String(request.path.dropFirst(configuration.prefix.count))
        let method = request.method == "HEAD" ? "GET" : request.method
        if path == "/console.js", method == "GET" {
            var response = HTTPResponse.text(ConsolePages.script, contentType: "text/javascript; charset=utf-8")
            response.headers.add(name: "Cache-Control", value: "max-age=300")
            return response
        }
        let cookieSession = Self.cookieValue(request.headers["Cookie"], name: Self.cookie)
        let csrf: String?
        if configuration.adminToken != nil {
            if path == "/login" { return login(request, method: method) }
            guard let token = sessions.csrf(for: cookieSession) else {
                return method == "GET"
                    ? Self.redirect(to: "\(configuration.prefix)/login")
                    : Self.page(status: 403, "not logged in\n")
            }
            csrf = token
        } else {
            csrf = nil
        }
        let pages = ConsolePages(prefix: configuration.prefix, csrf: csrf)
        let query = FormData(request.query)
        do {
            switch (method, path) {
            case ("GET", ""), ("GET", "/"):
                return Self.page(
                    pages.layout(
                        title: "Overview", active: "Overview", pages.overview(try await queries.overview()),
                        notice: query["notice"]))
            case ("GET", "/jobs"):
                return try await jobList(query, pages: pages)
            case ("GET", let path) where path.hasPrefix("/jobs/"):
                guard let id = Int64(path.dropFirst("/jobs/".count)) else {
                    return Self.page(status: 404, pages.layout(title: "Not found", active: "", "<p>No such page.</p>"))
                }
                guard let detail = try await operations.job(id: id) else {
                    return Self.page(
                        status: 404, pages.layout(title: "Job \(id)", active: "Jobs", "<p>No such job.</p>"))
                }
                return Self.page(
                    pages.layout(
                        title: "Job \(id): \(detail.job.kind)", active: "Jobs",
                        pages.jobDetail(detail, showPayload: configuration.showPayloads), notice: query["notice"]))
            case ("GET", "/periodic"):
                let rows = try await queries.periodic(configuration.periodicJobs)
                return Self.page(pages.layout(title: "Periodic jobs", active: "Periodic", pages.periodic(rows)))
            case ("GET", "/workers"):
                return Self.page(
                    pages.layout(title: "Workers", active: "Workers", pages.workers(try await queries.workers())))
            case ("GET", "/reminders"):
                return Self.page(
                    pages.layout(title: "Reminders", active: "Reminders", pages.reminders(try await reminders.page())))
            case ("POST", _):
                return try await post(path, request: request, session: cookieSession, csrf: csrf, pages: pages)
            case ("GET", _):
                return Self.page(status: 404, pages.layout(title: "Not found", active: "", "<p>No such page.</p>"))
            default:
                var response = Self.page(status: 405, "method not allowed\n")
                response.headers.add(name: "Allow", value: "GET, HEAD, POST")
                return response
            }
        } catch let error as RequestError {
            return Self.page(
                status: 400,
                pages.layout(title: "Bad request", active: "", "<p class=\"error\">" + h(error.message) + "</p>"))
        } catch {
            logger.warning("console query failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return Self.page(
                status: 503,
                pages.layout(
                    title: "Database error", active: "",
                    "<p class=\"error\">" + h("The query failed: \(error)") + "</p>"))
        }
    }

    struct RequestError: Error {
        var message: String
    }

    // MARK: - Jobs

    static func filter(_ form: FormData, ids: [Int64] = []) throws -> JobFilter {
        var states: [JobState] = []
        for value in form.all("state") {
            for name in value.split(separator: ",") where !name.isEmpty {
                guard let state = JobState(rawValue: String(name)) else {
                    throw RequestError(message: "unknown state \"\(name)\"")
                }
                states.append(state)
            }
        }
        var ids = ids
        if let text = form["id"] {
            guard let id = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw RequestError(message: "id \"\(text)\" is not a number")
            }
            ids.append(id)
        }
        return JobFilter(states: states, kind: form["kind"], queue: form["queue"], ids: ids)
    }

    private func jobList(_ query: FormData, pages: ConsolePages) async throws -> HTTPResponse {
        let filter = try Self.filter(query)
        let before = Int64(query["before"] ?? "") ?? 0
        let limit = 50
        let page = try await operations.list(
            filter, before: before, limit: limit, window: configuration.listWindow)
        return Self.page(
            pages.layout(
                title: "Jobs", active: "Jobs", pages.jobList(page, filter: filter, before: before),
                notice: query["notice"]))
    }

    // MARK: - Actions

    private func post(
        _ path: String,
        request: HTTPRequest,
        session: String?,
        csrf: String?,
        pages: ConsolePages
    ) async throws -> HTTPResponse {
        guard let csrf else {
            return Self.page(status: 403, "the console is read-only: set console.admin_token to enable actions\n")
        }
        let form = FormData(bytes: request.body)
        guard let sent = form["csrf"], ConsoleSessions.constantTimeEqual(sent, csrf) else {
            return Self.page(status: 403, "missing or wrong CSRF token; reload the page\n")
        }
        switch path {
        case "/logout":
            sessions.remove(session)
            var response = Self.redirect(to: "\(configuration.prefix)/login")
            response.headers.add(name: "Set-Cookie", value: "\(Self.cookie)=; Path=\(configuration.prefix); Max-Age=0")
            return response
        case "/queues/pause", "/queues/resume":
            guard let queue = form["queue"] else { throw RequestError(message: "no queue given") }
            let pausing = path == "/queues/pause"
            let changed =
                pausing
                ? try await operations.pause(queue: queue, by: "console") : try await operations.resume(queue: queue)
            let notice =
                "queue \(queue) "
                + (pausing ? (changed ? "paused" : "was paused already") : (changed ? "resumed" : "was not paused"))
            logger.notice("console: queue \(pausing ? "paused" : "resumed")", metadata: ["queue": "\(queue)"])
            return Self.redirect(to: "\(configuration.prefix)?notice=\(FormData.encode(notice))")
        case "/jobs/action":
            let parts = (form["op"] ?? "").split(separator: ":").map(String.init)
            guard parts.count == 2, let action = JobOperations.Action(rawValue: parts[0]),
                ["selected", "filter"].contains(parts[1])
            else { throw RequestError(message: "unknown action \"\(form["op"] ?? "")\"") }
            let scope = parts[1]
            let filter: JobFilter
            if scope == "selected" {
                let ids = try form.all("ids").map { text -> Int64 in
                    guard let id = Int64(text) else {
                        throw RequestError(message: "job id \"\(text)\" is not a number")
                    }
                    return id
                }
                guard !ids.isEmpty else { throw RequestError(message: "no job selected") }
                filter = JobFilter(ids: ids)
            } else {
                filter = try Self.filter(form)
                guard !filter.matchesEverything else {
                    throw RequestError(message: "choose a filter (at least a state) before acting on all matching jobs")
                }
            }
            guard form["confirm"] == "1" else {
                let count = try await operations.count(action, filter, cap: Self.confirmCap)
                return Self.page(
                    pages.layout(
                        title: "Confirm", active: "Jobs",
                        pages.confirm(action: action, filter: filter, count: count, cap: Self.confirmCap, scope: scope))
                )
            }
            let result = try await operations.perform(action, filter, reason: "cancelled in the console")
            logger.notice(
                "console: jobs \(action.rawValue)",
                metadata: ["jobs.changed": "\(result.changed)", "scope": "\(scope)"])
            let notice = "\(action.rawValue): \(result.changed) of \(result.seen) eligible jobs changed"
            let back =
                filter.ids.count == 1 && scope == "selected"
                ? "\(configuration.prefix)/jobs/\(filter.ids[0])?notice=\(FormData.encode(notice))"
                : "\(configuration.prefix)/jobs?\(ConsolePages.query(scope == "filter" ? filter : JobFilter()))&notice=\(FormData.encode(notice))"
            return Self.redirect(to: back)
        default:
            return Self.page(status: 404, "no such action\n")
        }
    }

    private func login(_ request: HTTPRequest, method: String) -> HTTPResponse {
        let pages = ConsolePages(prefix: configuration.prefix, csrf: nil)
        switch method {
        case "GET":
            return Self.page(pages.layout(title: "Log in", active: "", pages.login(failed: false)))
        case "POST":
            let form = FormData(bytes: request.body)
            guard let token = configuration.adminToken, let sent = form["token"],
                ConsoleSessions.constantTimeEqual(sent, token)
            else {
                logger.warning("console: failed login")
                return Self.page(status: 403, pages.layout(title: "Log in", active: "", pages.login(failed: true)))
            }
            let session = sessions.create()
            var response = Self.redirect(to: configuration.prefix)
            response.headers.add(
                name: "Set-Cookie",
                value: "\(Self.cookie)=\(session.id); Path=\(configuration.prefix); HttpOnly; SameSite=Strict")
            return response
        default:
            return Self.page(status: 405, "method not allowed\n")
        }
    }

    // MARK: - Responses

    static func page(status: Int = 200, _ html: HTML) -> HTTPResponse {
        var response = HTTPResponse(status: status, body: Array(html.raw.utf8))
        response.headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        response.headers.add(name: "Cache-Control", value: "no-store")
        response.headers.add(name: "X-Frame-Options", value: "DENY")
        response.headers.add(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.add(name: "Referrer-Policy", value: "same-origin")
        response.headers.add(
            name: "Content-Security-Policy",
            value: "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; "
                + "base-uri 'none'; frame-ancestors 'none'")
        return response
    }

    static func redirect(to location: String) -> HTTPResponse {
        var response = HTTPResponse(status: 303)
        response.headers.add(name: "Location", value: location)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    static func cookieValue(_ header: String?, name: String) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pieces.count == 2, pieces[0] == name { return String(pieces[1]) }
        }
        return nil
    }
}
