#!/usr/bin/env python3
"""Drives the console in headless Chromium over the DevTools protocol (CDP), against a running worker.

Usage: console_browser.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR SLOT_WORKER_BINARY
(DATABASE_URL in the environment, for the one job it enqueues through the CLI while the queue is paused).

Checks: every page loads without console errors (console.error, uncaught exceptions, CSP violations, failed
loads); a filter narrows the job list; a dead job is retried and runs; a queue is paused (a job enqueued meanwhile
stays available) and resumed (the job then runs). Writes one PNG per page to SCREENSHOT_DIR. Exits non-zero with a
message on the first failure.
"""
import base64, json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request
import websocket  # websocket-client

BASE, TOKEN, SHOTS, BINARY = sys.argv[1:5]
os.makedirs(SHOTS, exist_ok=True)


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


profile = tempfile.mkdtemp(prefix="slotworker-chromium-")
chrome = subprocess.Popen(
    [shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
     "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0", "--user-data-dir=" + profile,
     "--window-size=1280,900", "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    deadline = time.time() + 30
    port = None
    while time.time() < deadline and port is None:
        line = chrome.stderr.readline()
        match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            port = int(match.group(1))
        elif chrome.poll() is not None:
            fail("chromium exited early: " + line)
    if port is None:
        fail("chromium did not start DevTools within 30 s")
    targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port))
    page = next(t for t in targets if t["type"] == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=20)
    next_id = [0]
    errors = []
    events = []

    def handle(message):
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console.%s: %s" % (params["type"], [a.get("value", a.get("description")) for a in params["args"]]))
        elif method == "Runtime.exceptionThrown":
            errors.append("exception: " + json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append("log: %s %s" % (params["entry"].get("text"), params["entry"].get("url", "")))
        elif method:
            events.append(method)

    def call(method, **params):
        next_id[0] += 1
        ws.send(json.dumps({"id": next_id[0], "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == next_id[0]:
                if "error" in message:
                    fail("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            handle(message)

    def wait_load(timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if "Page.loadEventFired" in events:
                events.clear()
                return
            ws.settimeout(max(0.1, end - time.time()))
            handle(json.loads(ws.recv()))
        fail("page did not load within %d s" % timeout)

    def navigate(path):
        events.clear()
        call("Page.navigate", url=BASE + path)
        wait_load()

    def js(expression):
        result = call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            fail("script failed: %s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def click(selector):
        events.clear()
        if not js("(function(){var e=document.querySelector(%s); if(!e) return false; e.click(); return true})()"
                  % json.dumps(selector)):
            fail("no element %s on %s" % (selector, js("location.href")))
        wait_load()

    def shot(name):
        data = call("Page.captureScreenshot", format="png")["data"]
        with open(os.path.join(SHOTS, name + ".png"), "wb") as file:
            file.write(base64.b64decode(data))

    def check_clean(where):
        if errors:
            fail("console errors on %s: %s" % (where, errors))

    def eventually(what, predicate, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if predicate():
                return
            time.sleep(0.25)
        fail("timed out waiting for " + what)

    for domain in ("Page", "Runtime", "Log"):
        call(domain + ".enable")

    # Login (the console has an admin token): every page redirects here first.
    navigate("/ui")
    if "/ui/login" not in js("location.href"):
        fail("expected the login page, got " + js("location.href"))
    shot("login")
    js("document.getElementById('token').value = %s" % json.dumps(TOKEN))
    click("#login")
    if not js("!!document.getElementById('queues')"):
        fail("no queue table on the overview after login: " + js("document.body.innerText")[:500])
    shot("overview")
    check_clean("overview")

    # The job list, then a filter that narrows it to the dead jobs.
    navigate("/ui/jobs")
    all_rows = js("document.querySelectorAll('#jobs tr').length - 1")
    shot("jobs")
    js("document.querySelector('#filter select[name=state]').value = 'dead'")
    click("#filter button")
    dead_rows = js("document.querySelectorAll('#jobs tr').length - 1")
    states = js("Array.from(document.querySelectorAll('#jobs tr td:nth-child(3)')).map(function(c){return c.innerText})")
    if not (0 < dead_rows < all_rows) or set(states) != {"dead"}:
        fail("the dead filter did not narrow the list: %d of %d rows, states %s" % (dead_rows, all_rows, states))
    shot("jobs-dead")
    check_clean("job list")

    # A dead job: its page shows the hostile error as text; retry it (confirm the count) and watch it run.
    click("#jobs tr:nth-child(2) td:nth-child(2) a")
    job_path = js("location.pathname")
    if "<img" not in js("document.getElementById('last-error').innerText"):
        fail("the job's error is not shown as text")
    shot("job-dead")
    click("#job-retry")
    count = js("document.getElementById('confirm-count').innerText")
    if not count.startswith("Retry 1 of"):
        fail("unexpected confirmation: " + count)
    shot("confirm-retry")
    click("#confirm")

    def job_state():
        navigate(job_path)
        return js("document.querySelector('#fields tr td').innerText")

    eventually("the retried job to succeed", lambda: job_state() == "succeeded")
    shot("job-retried")
    check_clean("job detail")

    # Pause the default queue: a job enqueued meanwhile is not claimed; resume: it runs.
    navigate("/ui")
    click("#pause-default")
    if "queue default paused" not in js("document.getElementById('notice').innerText"):
        fail("no pause notice")
    shot("overview-paused")
    enqueued = subprocess.run([BINARY, "enqueue", "noop"], capture_output=True, text=True, check=True).stdout
    job_id = re.search(r"enqueued job (\d+)", enqueued).group(1)
    job_path = "/ui/jobs/" + job_id
    time.sleep(1.5)
    if job_state() != "available":
        fail("a job of the paused queue was claimed: " + job_state())
    navigate("/ui")
    click("#resume-default")
    eventually("the job to run after resume", lambda: job_state() == "succeeded", timeout=10)

    for path, name, marker in [("/ui/periodic", "periodic", "periodic"), ("/ui/workers", "workers", "workers"),
                               ("/ui/reminders", "reminders", "due")]:
        navigate(path)
        if not js("!!document.getElementById(%s)" % json.dumps(marker)):
            fail("no #%s on %s: %s" % (marker, path, js("document.body.innerText")[:300]))
        shot(name)
        check_clean(path)
    ws.close()
    print("OK: screenshots in " + SHOTS, flush=True)
finally:
    chrome.kill()
    chrome.wait()
    shutil.rmtree(profile, ignore_errors=True)
