"""A local fake of the Telegram Bot API's sendMessage, for tests. Prints its port, records every request as a JSON
line in the file given as argv[1]. chat_id 403 -> 403 Forbidden, 500 -> 500, 429 -> 429 with retry_after 7."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            message = json.loads(body)
        except ValueError:
            message = {}
        with open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "message": message}) + "\n")
        chat = message.get("chat_id")
        if chat == 403:
            self.answer(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        elif chat == 500:
            self.answer(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        elif chat == 429:
            self.answer(429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                              "parameters": {"retry_after": 7}})
        else:
            self.answer(200, {"ok": True, "result": {"message_id": 1}})

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def exit_with_parent():
    # The test process holds our stdin open; EOF means it is gone (even if it crashed).
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
