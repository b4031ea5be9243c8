#!/usr/bin/env python3
"""handler_server.py - a loopback HTTP server for the http-handler tests.

    python3 tests/servers/handler_server.py   -> prints "PORT <n>" and serves

POST /echo        200, the request body as it came (the observation)
POST /headers     200, {"content_type": ..., "method": ...} of the request
POST /status/N    status N, body "status N"
POST /slow        waits 5 s, then 200 (for timeouts)
POST /big         200, 9 MiB of 'x' (over the observation cap)
It exits when its stdin closes, so a test that dies leaves nothing behind.
"""
import http.server
import json
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path == "/echo":
            self.reply(200, body)
        elif self.path == "/headers":
            info = {"content_type": self.headers.get("Content-Type"), "method": self.command, "length": n}
            self.reply(200, json.dumps(info).encode())
        elif self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self.reply(code, f"status {code}".encode(), "text/plain")
        elif self.path == "/slow":
            time.sleep(5)
            self.reply(200, b"late")
        elif self.path == "/big":
            self.reply(200, b"x" * (9 << 20), "text/plain")
        else:
            self.reply(404, b"no such path", "text/plain")


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up early (timeouts, the size cap) are expected


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(f"PORT {srv.server_address[1]}", flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or dies)
    srv.shutdown()


if __name__ == "__main__":
    main()
