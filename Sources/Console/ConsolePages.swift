import Foundation
import JobQueue

/// The console's HTML: one layout, a page per view. Every dynamic value is escaped (``h(_:)``).
struct ConsolePages: Sendable {
    let prefix: String
    /// The CSRF token of the viewer's session; nil: read-only (no action forms).
    let csrf: String?

    func layout(title: String, active: String, _ body: HTML, notice: String? = nil) -> HTML {
        let links: [(String, String)] = [
            ("", "Overview"), ("/jobs", "Jobs"), ("/periodic", "Periodic"), ("/workers", "Workers"),
            ("/reminders", "Reminders"),
        ]
        let nav = HTML.join(
            links.map { path, name in
                HTML(raw: "<a href=\"\(prefix)\(path)\"\(active == name ? " class=\"active\"" : "")>") + h(name)
                    + "</a>"
            })
        let mode: HTML =
            csrf == nil
            ? "<span class=\"mode\">read-only</span>"
            : HTML(raw: "<form method=\"post\" action=\"\(prefix)/logout\" class=\"inline\">")
                + csrfField + "<button>Log out</button></form>"
        let banner: HTML = notice.map { "<p class=\"notice\" id=\"notice\">" + h($0) + "</p>" } ?? ""
        var page = HTML(
            raw: "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
        page += h(title)
        page += HTML(
            raw: " · SlotWorker</title><style>\(Self.style)</style></head><body><header><strong>SlotWorker</strong> ")
        page += nav
        page += " "
        page += mode
        page += "</header><main><h1>"
        page += h(title)
        page += "</h1>"
        page += banner
        page += body
        page += HTML(raw: "</main><script src=\"\(prefix)/console.js\"></script></body></html>")
        return page
    }

    var csrfField: HTML {
        guard let csrf else { return "" }
        return "<input type=\"hidden\" name=\"csrf\" value=\"" + h(csrf) + "\">"
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}header{background:#243447;color:#fff;padding:8px 16px}
        header a{color:#cde;margin:0 8px;text-decoration:none}header a.active{color:#fff;font-weight:bold}
        main{padding:8px 16px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;
        text-align:left;vertical-align:top}th{background:#f0f0f0}.num{text-align:right}.notice{background:#eef7e8;
        padding:6px;border:1px solid #9c6}.error{background:#fdecea;padding:6px;border:1px solid #e57373}
        pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:6px;max-width:100em}
        form.inline{display:inline}.mode{float:right;color:#fc6}header form{float:right}.state-dead{color:#b00}
        .paused{color:#b60;font-weight:bold}
        """

    // MARK: - Pages

    func overview(_ overview: ConsoleQueries.Overview) -> HTML {
        let states = JobState.allCases
        var rows: [HTML] = []
        for queue in overview.queues {
            var cells: [HTML] = [
                "<td><a href=\"" + h("\(prefix)/jobs?queue=\(FormData.encode(queue.queue))") + "\">" + h(queue.queue)
                    + "</a>" + (queue.paused == nil ? "" : " <span class=\"paused\">paused</span>") + "</td>"
            ]
            for state in states {
                let count = queue.counts[state] ?? 0
                let link = "\(prefix)/jobs?queue=\(FormData.encode(queue.queue))&state=\(state.rawValue)"
                cells.append(
                    "<td class=\"num\"><a href=\"" + h(link) + "\">"
                        + h(Format.count(count, estimated: overview.estimated && count > 0)) + "</a></td>")
            }
            cells.append("<td class=\"num\">" + h(queue.oldestReadySeconds.map(Format.age) ?? "—") + "</td>")
            cells.append("<td>" + h(queue.completions.reversed().map(String.init).joined(separator: " ")) + "</td>")
            var actions: HTML = ""
            if csrf != nil {
                let verb = queue.paused == nil ? "pause" : "resume"
                actions =
                    HTML(raw: "<form method=\"post\" action=\"\(prefix)/queues/\(verb)\" class=\"inline\">")
                    + csrfField + "<input type=\"hidden\" name=\"queue\" value=\"" + h(queue.queue) + "\">"
                    + "<button id=\"" + h("\(verb)-\(queue.queue)") + "\">" + h(verb.capitalized) + "</button></form>"
            }
            cells.append("<td>" + actions + "</td>")
            rows.append("<tr>" + HTML.join(cells) + "</tr>")
        }
        let header =
            "<tr><th>queue</th>" + HTML.join(states.map { "<th>" + h($0.rawValue) + "</th>" })
            + "<th>oldest ready</th><th>finished per minute (oldest → now)</th><th></th></tr>"
        let note: HTML =
            overview.estimated
            ? "<p>About " + h(Format.count(overview.total, estimated: false))
                + " jobs: counts are estimated from a table sample (≈).</p>"
            : "<p>" + h(Format.count(overview.total, estimated: false)) + " jobs.</p>"
        let empty: HTML = rows.isEmpty ? "<p>No jobs and no workers yet.</p>" : ""
        return note + "<table id=\"queues\">" + header + HTML.join(rows) + "</table>" + empty
    }

    /// The job list: the filter form, the page's jobs (with checkboxes and actions when logged in) and the pager.
    /// A page whose scan window ran out says how far down it searched and links to the next window.
    func jobList(_ page: JobPage, filter: JobFilter, before: Int64) -> HTML {
        let jobs = page.jobs
        func selected(_ state: JobState) -> String { filter.states.contains(state) ? " selected" : "" }
        let stateOptions = HTML.join(
            [HTML(raw: "<option value=\"\">any state</option>")]
                + JobState.allCases.map {
                    HTML(raw: "<option value=\"\($0.rawValue)\"\(selected($0))>\($0.rawValue)</option>")
                })
        let filterForm =
            HTML(raw: "<form method=\"get\" action=\"\(prefix)/jobs\" id=\"filter\">")
            + "<select name=\"state\">" + stateOptions + "</select> "
            + "<input name=\"kind\" placeholder=\"kind\" value=\"" + h(filter.kind ?? "") + "\"> "
            + "<input name=\"queue\" placeholder=\"queue\" value=\"" + h(filter.queue ?? "") + "\"> "
            + "<input name=\"id\" placeholder=\"id\" size=\"8\" value=\"" + h(filter.ids.first.map(String.init) ?? "")
            + "\"> <button>Filter</button></form>"
        var rows: [HTML] = []
        for job in jobs {
            let check: HTML =
                csrf == nil ? "" : "<td><input type=\"checkbox\" name=\"ids\" value=\"" + h(job.id) + "\"></td>"
            rows.append(
                "<tr>" + check + "<td><a href=\"" + h("\(prefix)/jobs/\(job.id)") + "\">" + h(job.id) + "</a></td>"
                    + "<td class=\"" + h("state-\(job.state.rawValue)") + "\">" + h(job.state.rawValue) + "</td><td>"
                    + h(job.queue) + "</td><td>" + h(job.kind) + "</td><td class=\"num\">"
                    + h("\(job.attempts)/\(job.maxAttempts.map(String.init) ?? "–")") + "</td><td>"
                    + h(Format.time(job.finishedAt ?? job.runAt)) + "</td><td>" + h(job.lastError ?? "") + "</td></tr>")
        }
        let header =
            (csrf == nil ? "" : "<th><input type=\"checkbox\" id=\"select-all\" title=\"select all\"></th>")
            + "<th>id</th><th>state</th><th>queue</th><th>kind</th><th>attempts</th><th>run at / finished</th>"
            + "<th>last error</th>" as HTML
        let base = "\(prefix)/jobs?" + Self.query(filter)
        var table: HTML =
            jobs.isEmpty
            ? (page.searchedDownTo == nil ? "<p id=\"no-jobs\">No jobs match.</p>" : "")
            : "<table id=\"jobs\"><tr>" + header + "</tr>" + HTML.join(rows) + "</table>"
        var pager: HTML = ""
        if before != 0 { pager += "<a href=\"" + h(base) + "\">« newest</a> " }
        if let next = page.next {
            if let lowest = page.searchedDownTo {
                let searched = before == 0 ? "the newest jobs" : "jobs below id \(before)"
                table +=
                    "<p id=\"searched\">" + h(jobs.isEmpty ? "No match" : "No more matches") + " among "
                    + h(searched) + " down to id " + h(lowest) + ".</p>"
                pager +=
                    "<a id=\"continue\" href=\"" + h(base + "&before=\(next)")
                    + "\">continue searching older jobs »</a>"
            } else {
                pager += "<a id=\"older\" href=\"" + h(base + "&before=\(next)") + "\">older »</a>"
            }
        }
        guard csrf != nil else { return filterForm + table + "<p>" + pager + "</p>" }
        var buttons: [HTML] = []
        for action in JobOperations.Action.allCases {
            buttons.append(
                "<button name=\"op\" value=\"" + h("\(action.rawValue):selected") + "\">"
                    + h(action.rawValue.capitalized)
                    + " selected</button>")
        }
        for action in JobOperations.Action.allCases {
            buttons.append(
                "<button name=\"op\" value=\"" + h("\(action.rawValue):filter") + "\">" + h(action.rawValue.capitalized)
                    + " all matching</button>")
        }
        return filterForm + HTML(raw: "<form method=\"post\" action=\"\(prefix)/jobs/action\" id=\"actions\">")
            + csrfField + filterFields(filter) + "<p>" + HTML.join(buttons, separator: " ") + "</p>" + table
            + "</form><p>" + pager + "</p>"
    }

    func filterFields(_ filter: JobFilter) -> HTML {
        var fields: HTML = ""
        for state in filter.states {
            fields += "<input type=\"hidden\" name=\"state\" value=\"" + h(state.rawValue) + "\">"
        }
        if let kind = filter.kind { fields += "<input type=\"hidden\" name=\"kind\" value=\"" + h(kind) + "\">" }
        if let queue = filter.queue { fields += "<input type=\"hidden\" name=\"queue\" value=\"" + h(queue) + "\">" }
        return fields
    }

    static func query(_ filter: JobFilter) -> String {
        var parts: [String] = []
        if !filter.states.isEmpty { parts.append("state=" + filter.states.map(\.rawValue).joined(separator: ",")) }
        if let kind = filter.kind { parts.append("kind=" + FormData.encode(kind)) }
        if let queue = filter.queue { parts.append("queue=" + FormData.encode(queue)) }
        if let id = filter.ids.first { parts.append("id=\(id)") }
        return parts.joined(separator: "&")
    }

    func confirm(action: JobOperations.Action, filter: JobFilter, count: Int, cap: Int, scope: String) -> HTML {
        let what = scope == "selected" ? "the selected jobs" : "all jobs matching the filter"
        let counted =
            count >= cap ? "at least \(Format.count(cap, estimated: false))" : Format.count(count, estimated: false)
        var ids: HTML = ""
        for id in filter.ids { ids += "<input type=\"hidden\" name=\"ids\" value=\"" + h(id) + "\">" }
        return "<p id=\"confirm-count\">" + h("\(action.rawValue.capitalized) \(counted) of \(what)")
            + " (eligible: " + h(action.eligibleStates.map(\.rawValue).joined(separator: ", ")) + ")?</p>"
            + HTML(raw: "<form method=\"post\" action=\"\(prefix)/jobs/action\">") + csrfField + filterFields(filter)
            + ids + "<input type=\"hidden\" name=\"confirm\" value=\"1\">"
            + "<button id=\"confirm\" name=\"op\" value=\"" + h("\(action.rawValue):\(scope)") + "\">Confirm</button> "
            + HTML(raw: "<a href=\"\(prefix)/jobs?") + h(Self.query(filter)) + "\">Cancel</a></form>"
    }

    func jobDetail(_ detail: JobDetail, showPayload: Bool) -> HTML {
        let job = detail.job
        var timeline: [(Date, String)] = [(job.createdAt, "created"), (job.runAt, "scheduled to run")]
        for error in detail.errors { timeline.append((error.at, "attempt \(error.attempt) failed")) }
        if let attempted = job.attemptedAt { timeline.append((attempted, "attempt \(job.attempts) started")) }
        if let finished = job.finishedAt { timeline.append((finished, job.state.rawValue)) }
        timeline.sort { $0.0 < $1.0 }
        let fields: [(String, String)] = [
            ("state", job.state.rawValue), ("kind", job.kind), ("queue", job.queue), ("priority", "\(job.priority)"),
            ("attempts", "\(job.attempts) of \(job.maxAttempts.map(String.init) ?? "the kind's limit")"),
            ("unique key", job.uniqueKey ?? "—"), ("running on", job.lockedBy ?? "—"),
            ("lease expires", Format.time(job.leaseExpiresAt)),
        ]
        var body: HTML =
            "<table id=\"fields\">"
            + HTML.join(fields.map { "<tr><th>" + h($0.0) + "</th><td>" + h($0.1) + "</td></tr>" }) + "</table>"
        body +=
            "<h2>Timeline</h2><table id=\"timeline\">"
            + HTML.join(timeline.map { "<tr><td>" + h(Format.time($0.0)) + "</td><td>" + h($0.1) + "</td></tr>" })
            + "</table>"
        body += "<h2>Attempts and errors</h2>"
        if detail.errors.isEmpty {
            body += "<p>No failed attempt.</p>"
        } else {
            body +=
                "<table id=\"errors\"><tr><th>attempt</th><th>at</th><th>error</th></tr>"
                + HTML.join(
                    detail.errors.map {
                        "<tr><td>" + h($0.attempt) + "</td><td>" + h(Format.time($0.at)) + "</td><td><pre>"
                            + h($0.error)
                            + "</pre></td></tr>"
                    }) + "</table>"
        }
        if let last = job.lastError { body += "<h2>Last error</h2><pre id=\"last-error\">" + h(last) + "</pre>" }
        body += "<h2>Payload</h2>"
        body +=
            showPayload
            ? "<pre id=\"payload\">" + h(job.payload) + "</pre>"
            : "<p>Hidden (set console.show_payloads to show payloads).</p>"
        if csrf != nil {
            var buttons: [HTML] = []
            for action in JobOperations.Action.allCases where action.eligibleStates.contains(job.state) {
                buttons.append(
                    "<button id=\"" + h("job-\(action.rawValue)") + "\" name=\"op\" value=\""
                        + h("\(action.rawValue):selected") + "\">" + h(action.rawValue.capitalized) + "</button>")
            }
            body +=
                HTML(raw: "<form method=\"post\" action=\"\(prefix)/jobs/action\">") + csrfField
                + "<input type=\"hidden\" name=\"ids\" value=\"" + h(job.id) + "\"><p>"
                + HTML.join(buttons, separator: " ")
                + "</p></form>"
        }
        return body
    }

    func periodic(_ rows: [ConsoleQueries.PeriodicRow]) -> HTML {
        guard !rows.isEmpty else { return "<p>No periodic jobs are configured.</p>" }
        return "<table id=\"periodic\"><tr><th>name</th><th>kind</th><th>queue</th><th>schedule</th><th>last run</th>"
            + "<th>next run</th></tr>"
            + HTML.join(
                rows.map { row in
                    "<tr><td>" + h(row.job.name) + "</td><td>" + h(row.job.kind) + "</td><td>" + h(row.job.queue)
                        + "</td><td>" + h(row.job.schedule.description) + "</td><td>" + h(Format.time(row.lastRun))
                        + "</td><td>" + h(Format.time(row.nextRun)) + "</td></tr>"
                }) + "</table>"
    }

    func workers(_ rows: [ConsoleQueries.WorkerRow]) -> HTML {
        guard !rows.isEmpty else { return "<p>No worker has registered.</p>" }
        return "<table id=\"workers\"><tr><th>worker</th><th>host</th><th>pid</th><th>queue</th><th>concurrency</th>"
            + "<th>in flight</th><th>started</th><th>last heartbeat</th></tr>"
            + HTML.join(
                rows.map { row in
                    "<tr><td>" + h(row.id) + "</td><td>" + h(row.host) + "</td><td class=\"num\">" + h(row.pid)
                        + "</td><td>" + h(row.queue) + "</td><td class=\"num\">" + h(row.concurrency)
                        + "</td><td class=\"num\">" + h(row.inFlight) + "</td><td>" + h(Format.time(row.startedAt))
                        + "</td><td>" + h(Format.age(row.silentSeconds) + " ago") + "</td></tr>"
                }) + "</table>"
    }

    func reminders(_ page: ReminderQueries.Page) -> HTML {
        var body: HTML = "<h2>Due in the next hour</h2>"
        body +=
            page.due.isEmpty
            ? "<p>None.</p>"
            : "<table id=\"due\"><tr><th>reminder</th><th>slot</th><th>offset</th><th>due</th><th>state</th></tr>"
                + HTML.join(
                    page.due.map {
                        "<tr><td>" + h($0.reminderID) + "</td><td>" + h($0.slotID) + "</td><td>" + h($0.offset)
                            + "</td><td>" + h(Format.time($0.dueAt)) + "</td><td>" + h($0.state) + "</td></tr>"
                    }) + "</table>"
        body += "<h2>Sent</h2>"
        body +=
            page.sent.isEmpty
            ? "<p>None yet.</p>"
            : "<table id=\"sent\"><tr><th>slot</th><th>offset</th><th>sent</th></tr>"
                + HTML.join(
                    page.sent.map {
                        "<tr><td>" + h($0.slotID) + "</td><td>" + h($0.offset) + "</td><td>" + h(Format.time($0.sentAt))
                            + "</td></tr>"
                    }) + "</table>"
        body += "<h2>Not sent in the last hour, by reason</h2>"
        body +=
            page.skipped.isEmpty
            ? "<p>None.</p>"
            : "<table id=\"skipped\"><tr><th>reason</th><th>reminders</th></tr>"
                + HTML.join(
                    page.skipped.map {
                        "<tr><td>" + h($0.reason) + "</td><td class=\"num\">" + h($0.count) + "</td></tr>"
                    })
                + "</table>"
        return body
    }

    func login(failed: Bool) -> HTML {
        (failed ? "<p class=\"error\">Wrong token.</p>" : "")
            + HTML(raw: "<form method=\"post\" action=\"\(prefix)/login\">")
            + "<input type=\"password\" name=\"token\" id=\"token\" placeholder=\"admin token\" autofocus> "
            + "<button id=\"login\">Log in</button></form>"
    }

    /// The console's only script: "select all" on the job list.
    static let script = """
        document.addEventListener('DOMContentLoaded', function () {
          var all = document.getElementById('select-all');
          if (!all) return;
          all.addEventListener('change', function () {
            document.querySelectorAll('input[name=ids]').forEach(function (box) { box.checked = all.checked; });
          });
        });
        """
}
