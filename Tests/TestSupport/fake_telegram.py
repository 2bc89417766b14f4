"""A local fake of the Telegram Bot API's sendMessage, for tests and scripts/bench. Prints its port, records every
request as a JSON line (path, message, arrival time) in the file argv[1].

Answers by chat_id, from the JSON rules file argv[2] if given: {"<chat_id>": ["429:1", "200"], ...} serves the
listed answers in order, the last one repeating; chats without rules get 200 with an increasing message_id.
Answers: "200"; "429:S" (retry_after S); "403" (bot blocked); "400" (chat not found); "400:long" (message too
long); "500"; "hang" (accepts, reads the request, never answers); "hostile" (500 with a 2 MB body of NUL bytes and
invalid UTF-8); "gate:PATH" (answers 200 once PATH exists)."""
import itertools
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
RULES = {}
if len(sys.argv) > 2:
    with open(sys.argv[2]) as f:
        RULES = json.load(f)
LOCK = threading.Lock()
SERVED = {}
IDS = itertools.count(1)


def next_answer(chat):
    rules = RULES.get(str(chat))
    if not rules:
        return "200"
    with LOCK:
        index = SERVED.get(chat, 0)
        SERVED[chat] = index + 1
    return rules[min(index, len(rules) - 1)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            message = json.loads(body)
        except ValueError:
            message = {}
        chat = message.get("chat_id")
        with LOCK:
            with open(LOG, "a") as log:
                log.write(json.dumps({"path": self.path, "message": message, "at": arrived}) + "\n")
        answer = next_answer(chat)
        if answer == "200":
            self.answer(200, {"ok": True, "result": {"message_id": next(IDS), "chat": {"id": chat}}})
        elif answer.startswith("429"):
            seconds = int(answer.split(":")[1]) if ":" in answer else 1
            self.answer(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after %d"
                              % seconds, "parameters": {"retry_after": seconds}})
        elif answer == "403":
            self.answer(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        elif answer == "400":
            self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        elif answer == "400:long":
            self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"})
        elif answer == "500":
            self.answer(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        elif answer == "hang":
            time.sleep(3600)
        elif answer == "hostile":
            self.raw(500, b"\x00\xff\xfe{\"ok\":false,\"description\":\"\x00\xc3\x28" + b"\x00\xff" * 1_000_000)
        elif answer.startswith("gate:"):
            path = answer[5:]
            while not os.path.exists(path):
                time.sleep(0.01)
            self.answer(200, {"ok": True, "result": {"message_id": next(IDS), "chat": {"id": chat}}})

    def answer(self, status, payload):
        self.raw(status, json.dumps(payload).encode())

    def raw(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def exit_with_parent():
    # The parent holds our stdin open; EOF means it is gone (even if it crashed).
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
