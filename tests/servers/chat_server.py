#!/usr/bin/env python3
"""chat_server.py - a loopback chat-completions endpoint for octo's teacher tests.

Speaks POST /v1/chat/completions (and /chat/completions) like an
OpenAI-compatible server, with deterministic answers built from the prompt:

- a generation prompt (system: one JSON function per line; user: "exactly K
  steps", "Use the function `NAME`") gets a valid record of K calls whose
  arguments satisfy each function's JSON Schema;
- a judge prompt ("Record:" then the record as JSON) gets {"valid", "reason"}:
  valid when every call names a listed function and every string argument
  value appears in the query.

Failure modes, to test the client's retries (N counts requests from 1):
  --fail-429 N        the first N requests get 429 with Retry-After
  --retry-after S     the Retry-After value (default 1)
  --slow-every N      every Nth request sleeps --slow-seconds before answering
  --slow-seconds S    (default 3)
  --error-every N     every Nth request gets a 500
  --garbage-every N   every Nth request gets prose with no JSON in it
  --prose             wrap every JSON answer in prose and a code fence
  --delay S           sleep S seconds before every answer
  --require-key KEY   401 unless "Authorization: Bearer KEY"
  --same-query        every record has the same query (a teacher repeating itself)

Prints "PORT <n>" on its first line of stdout, then serves until killed.
GET /stats returns the counters as JSON.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATS = {"requests": 0, "ok": 0, "429": 0, "500": 0, "slow": 0, "garbage": 0, "401": 0, "judge": 0}


def value_for(name, schema):
    """A value that satisfies one property's schema (and reads like data)."""
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    t = schema.get("type", "string")
    if t == "integer":
        return 3
    if t == "number":
        return 2.5
    if t == "boolean":
        return True
    if t == "array":
        return []
    if t == "object":
        return {}
    return f"{name} value"


def functions_from(system):
    fns = []
    for line in system.splitlines():
        line = line.strip()
        if line.startswith('{"name"'):
            try:
                fns.append(json.loads(line))
            except ValueError:
                pass
    return fns


def make_record(fns, k, anchor, seed):
    names = [f["name"] for f in fns]
    order = [anchor] + [n for n in names if n != anchor]
    calls, steps, parts = [], [], []
    for i in range(k):
        f = next(x for x in fns if x["name"] == order[i % len(order)])
        params = f.get("parameters") or {}
        props = params.get("properties") or {}
        args = {p: value_for(p, props.get(p, {})) for p in params.get("required", [])}
        calls.append({"function": f["name"], "arguments": args})
        steps.append(f"Step {i + 1}: do {f['name'].replace('_', ' ')}")
        vals = " and ".join(str(v) for v in args.values() if isinstance(v, str))
        parts.append(f"{f['name'].replace('_', ' ')}" + (f" with {vals}" if vals else ""))
    if ARGS.same_query:
        return {"query": "please do it", "steps": steps, "calls": calls}
    # the seed stands for a teacher's sampling: each request reads differently
    opener = ["please", "could you", "hey,", "I need you to", "go ahead and"][seed % 5]
    return {"query": f"{opener} " + ", then ".join(parts) + f" (ref {seed})", "steps": steps, "calls": calls}


def judge(fns, record):
    names = {f["name"] for f in fns}
    q = record.get("query", "").lower()
    for c in record.get("calls", []):
        if c.get("function") not in names:
            return {"valid": False, "reason": f"{c.get('function')} is not a function"}
        for v in (c.get("arguments") or {}).values():
            if isinstance(v, str) and v.lower() not in q:
                return {"valid": False, "reason": f"the query never mentions {v}"}
    if len(record.get("steps", [])) != len(record.get("calls", [])):
        return {"valid": False, "reason": "steps and calls differ in number"}
    return {"valid": True, "reason": "every step maps to a call the query asks for"}


def answer_for(messages, seed):
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = [m["content"] for m in messages if m.get("role") == "user"][0] if messages else ""
    fns = functions_from(system)
    if "Record:\n" in user:
        with LOCK:
            STATS["judge"] += 1
        rec = json.loads(user.split("Record:\n", 1)[1].split("\n", 1)[0])
        return json.dumps(judge(fns, rec))
    m = re.search(r"exactly (\d+) step", user)
    k = int(m.group(1)) if m else 1
    m = re.search(r"Use the function `([^`]+)`", user)
    anchor = m.group(1) if m else (fns[0]["name"] if fns else "none")
    return json.dumps(make_record(fns, k, anchor, seed))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests read stdout
        pass

    def send(self, code, body, headers=None):
        data = body.encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to do

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                self.send(200, json.dumps(STATS))
        else:
            self.send(404, json.dumps({"error": {"message": "not found"}}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        with LOCK:
            STATS["requests"] += 1
            seq = STATS["requests"]
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self.send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
        if ARGS.require_key and self.headers.get("Authorization") != f"Bearer {ARGS.require_key}":
            with LOCK:
                STATS["401"] += 1
            return self.send(401, json.dumps({"error": {"message": "Incorrect API key provided"}}))
        if seq <= ARGS.fail_429:
            with LOCK:
                STATS["429"] += 1
            return self.send(429, json.dumps({"error": {"message": "Rate limit reached"}}),
                             {"Retry-After": str(ARGS.retry_after)})
        if ARGS.error_every and seq % ARGS.error_every == 0:
            with LOCK:
                STATS["500"] += 1
            return self.send(500, json.dumps({"error": {"message": "internal error"}}))
        if ARGS.slow_every and seq % ARGS.slow_every == 0:
            with LOCK:
                STATS["slow"] += 1
            time.sleep(ARGS.slow_seconds)
        if ARGS.delay:
            time.sleep(ARGS.delay)
        try:
            req = json.loads(raw)
            content = answer_for(req["messages"], int(req.get("seed", 0)))
        except (ValueError, KeyError, IndexError, StopIteration) as e:
            return self.send(400, json.dumps({"error": {"message": f"bad request: {e}"}}))
        if ARGS.garbage_every and seq % ARGS.garbage_every == 0:
            with LOCK:
                STATS["garbage"] += 1
            content = "I'm sorry, I can't produce that record right now."
        elif ARGS.prose:
            content = f"Sure! Here it is:\n```json\n{content}\n```\nLet me know if you need more."
        with LOCK:
            STATS["ok"] += 1
        body = {
            "id": f"chatcmpl-{seq}",
            "object": "chat.completion",
            "model": req.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
        }
        self.send(200, json.dumps(body))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return  # a client that gave up (its timeout): expected in these tests
        super().handle_error(request, client_address)


def main():
    global ARGS
    p = argparse.ArgumentParser(description="loopback chat-completions server for tests")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fail-429", type=int, default=0)
    p.add_argument("--retry-after", default="1")
    p.add_argument("--slow-every", type=int, default=0)
    p.add_argument("--slow-seconds", type=float, default=3.0)
    p.add_argument("--error-every", type=int, default=0)
    p.add_argument("--garbage-every", type=int, default=0)
    p.add_argument("--prose", action="store_true")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--require-key", default="")
    p.add_argument("--same-query", action="store_true")
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
