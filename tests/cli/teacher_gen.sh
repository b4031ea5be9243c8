#!/bin/sh
# `octo data gen --teacher` against the loopback chat-completions server
# (tests/servers/chat_server.py): the octo process is killed with SIGKILL in
# the middle of a run and rerun, and the file ends with exactly N records,
# each request index once; Ctrl-C (SIGINT) stops a run with a clear message
# and keeps what arrived; a refused connection fails with one clear line.
# Run by tests/run.sh with OCTO set to the binary; exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is absent"; exit 77; }
"$OCTO" data gen --help 2>/dev/null | grep -q -- --teacher || { echo "skip: octo data gen has no --teacher"; exit 77; }
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
export NO_PROXY=127.0.0.1,localhost
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
lines() { [ -f "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }
wait_lines() { # file count: poll up to 20 s
    i=0
    while [ "$(lines "$1")" -lt "$2" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
}

cat >"$T/f.json" <<'EOF'
{"name": "mini", "functions": [
 {"name": "send_text_message", "description": "Send an SMS", "parameters": {"type": "object",
  "properties": {"to": {"type": "string"}, "message": {"type": "string"}}, "required": ["to", "message"]}},
 {"name": "set_volume", "description": "Set the volume", "parameters": {"type": "object",
  "properties": {"level": {"type": "integer"}}, "required": ["level"]}},
 {"name": "take_screenshot", "description": "Take a screenshot", "parameters": {"type": "object", "properties": {}}}]}
EOF

python3 tests/servers/chat_server.py --delay 0.1 >"$T/port" &
SPID=$!
i=0; while ! grep -q PORT "$T/port" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
PORT=$(sed -n 's/^PORT //p' "$T/port")
[ -n "$PORT" ] || { echo "FAIL the test server did not start"; exit 1; }
URL=http://127.0.0.1:$PORT/v1
N=30
# run octo itself in the background (not a shell function: $! must be octo's pid)
gen() { "$OCTO" data gen --functions "$T/f.json" --teacher "$URL" --model test --n $N --in-flight 2 -o "$OUTF"; }

# kill -9 in the middle, then rerun: exactly N records, no index twice
OUTF=$T/out.jsonl
"$OCTO" data gen --functions "$T/f.json" --teacher "$URL" --model test --n $N --in-flight 2 -o "$OUTF" 2>"$T/err1" &
OPID=$!
wait_lines "$T/out.jsonl" 5
kill -9 $OPID 2>/dev/null; wait $OPID 2>/dev/null
n1=$(lines "$T/out.jsonl")
[ "$n1" -ge 5 ] && [ "$n1" -lt $N ] && ok "killed with $n1 of $N records written" || bad "kill point: $n1 records"
if gen 2>"$T/err2"; then ok "rerun exits 0"; else bad "rerun failed: $(cat "$T/err2")"; fi
python3 - "$T/out.jsonl" $N <<'EOF' && ok "exactly $N valid records, indices 0..$((N-1)) once each" || bad "records after resume"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
idx = sorted(r["teacher_index"] for r in recs)
assert idx == list(range(n)), idx
for r in recs:
    assert len(r["steps"]) == len(r["calls"]) == 1 + r["teacher_index"] % 5
    assert r["query"] and r["domains"] == ["mini"]
EOF

# Ctrl-C: a clean stop with a message, what arrived kept, a rerun finishes
OUTF=$T/int.jsonl
"$OCTO" data gen --functions "$T/f.json" --teacher "$URL" --model test --n $N --in-flight 2 -o "$OUTF" 2>"$T/err3" &
OPID=$!
wait_lines "$T/int.jsonl" 3
kill -INT $OPID; wait $OPID; rc=$?
n2=$(lines "$T/int.jsonl")
if [ $rc -ne 0 ] && grep -q "interrupted" "$T/err3" && [ "$n2" -ge 3 ] && [ "$n2" -lt $N ]; then ok "SIGINT: exit $rc, $n2 records kept"
else bad "SIGINT: rc=$rc, $n2 records, stderr: $(cat "$T/err3")"; fi
gen 2>/dev/null && [ "$(lines "$T/int.jsonl")" -eq $N ] && ok "rerun after SIGINT completes" || bad "rerun after SIGINT"

# a refused connection: non-zero exit, one line naming the endpoint
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$OCTO" data gen --functions "$T/f.json" --teacher "http://127.0.0.1:$FREE/v1" --model test --n 2 --retries 1 \
    -o "$T/refused.jsonl" >"$T/out" 2>"$T/err4"; rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err4")" -eq 1 ] && grep -q "octo data gen: .*127.0.0.1:$FREE" "$T/err4"; then
    ok "refused connection: $(cat "$T/err4")"
else bad "refused connection: rc=$rc, stderr: $(cat "$T/err4")"; fi
exit $fail
