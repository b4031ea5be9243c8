#!/bin/sh
# `octo data validate|split|stats|dedupe|convert` and `octo functions` from
# the command line: help texts, one-line errors, exit codes, the files they
# write (atomically: no temp files left, nothing written on failure).
# Run by tests/run.sh with OCTO set to the binary.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

for c in convert validate split stats dedupe gen; do
    if "$OCTO" data $c --help >"$T/h" 2>&1 && grep -q "usage: octo data $c" "$T/h"; then ok "data $c --help"
    else bad "data $c --help"; fi
done
"$OCTO" data --help | grep -q "validate" && ok "data --help" || bad "data --help"
"$OCTO" functions --help | grep -q "usage: octo functions show" && ok "functions --help" || bad "functions --help"

expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}

cat >"$T/set.json" <<'EOF'
{"name": "mini", "functions": [
 {"name": "set_alarm", "description": "Set an alarm",
  "parameters": {"type": "object", "properties": {"time": {"type": "string"}, "label": {"type": "string"}},
                 "required": ["time"]},
  "handler": {"exec": ["printf", "alarm %s", "{time}"]}},
 {"type": "function", "function": {"name": "send_sms", "description": "Send a text message",
  "parameters": {"type": "object", "properties": {"to": {"type": "string"}, "text": {"type": "string"},
                 "urgency": {"type": "string", "enum": ["low", "high"]}}, "required": ["to", "text"]}}}]}
EOF
printf '[{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "text"}}}}]' >"$T/badset.json"

"$OCTO" functions validate "$T/set.json" >"$T/out" && grep -q "ok: mini, 2 functions, 1 with a handler" "$T/out" &&
    ok "functions validate" || bad "functions validate: $(cat "$T/out")"
"$OCTO" functions show "$T/set.json" >"$T/out" && grep -q "send_sms(to: string, text: string, urgency?: string (low|high))" "$T/out" &&
    grep -q "handler: exec printf alarm %s {time}" "$T/out" && ok "functions show" || bad "functions show: $(cat "$T/out")"
expect_err "functions validate names file and path" "badset.json: functions\[0\].parameters.properties.x.type: expected one of" \
    "$OCTO" functions validate "$T/badset.json"
expect_err "functions: unknown set" "not found" "$OCTO" functions show no_such_set_xyz
expect_err "data: unknown command" "unknown command" "$OCTO" data frobnicate
expect_err "convert: unknown format" "unknown format" "$OCTO" data convert --from nope a -o b
expect_err "convert: missing input" "cannot open" "$OCTO" data convert --from taskbench "$T/none.jsonl" -o "$T/o.jsonl" --functions "$T/set.json"
[ ! -e "$T/o.jsonl" ] && ok "convert: nothing written on failure" || bad "convert wrote a file on failure"
expect_err "validate: needs functions" "--functions F and IN are required" "$OCTO" data validate x.jsonl
expect_err "validate: judge flags together" "go together" "$OCTO" data validate --functions "$T/set.json" x --judge http://127.0.0.1:9
expect_err "split: bad ratios" "add up to" "$OCTO" data split "$T/set.json" -o "$T/p" --ratios 0.5,0.6
expect_err "split: not numbers" "expected numbers" "$OCTO" data split "$T/set.json" -o "$T/p" --ratios a,b
expect_err "stats: missing file" "cannot open" "$OCTO" data stats "$T/none.jsonl"
expect_err "unknown flag" "unknown argument" "$OCTO" data dedupe --frobnicate

# validate: one good record, one per broken rule
cat >"$T/recs.jsonl" <<'EOF'
{"query": "Set a gym alarm for 7, then text Anna that I'm up", "steps": ["Set a gym alarm for 7", "Text Anna that I'm up"], "calls": [{"function": "set_alarm", "arguments": {"time": "07:00", "label": "gym"}}, {"function": "send_sms", "arguments": {"to": "Anna", "text": "I'm up"}}], "domains": ["mini"]}
{"query": "Set a gym alarm for 7, then text Anna that I'm up", "steps": ["Text Anna that I'm up", "Set a gym alarm for 7"], "calls": [{"function": "send_sms", "arguments": {"to": "Anna", "text": "I'm up"}}, {"function": "set_alarm", "arguments": {"time": "07:00", "label": "gym"}}], "domains": ["mini"]}
{"query": "Text Bob hi", "steps": ["Text Bob hi"], "calls": [{"function": "send_sms", "arguments": {"to": "Bob", "text": "hi", "urgency": "asap"}}]}
{"query": "Text Bob hi", "steps": ["Text Bob hi"], "calls": [{"function": "send_mms", "arguments": {}}]}
{"query": "Text Bob hi", "steps": ["Text Bob hi"], "calls": [{"function": "send_sms", "arguments": {"to": "Carol", "text": "hi"}}]}
{"query": "Text Bob hi", "steps": ["Text Bob hi", "and again"], "calls": [{"function": "send_sms", "arguments": {"to": "Bob", "text": "hi"}}]}
not json
EOF
"$OCTO" data validate --functions "$T/set.json" "$T/recs.jsonl" --kept "$T/kept.jsonl" --rejected "$T/rej.jsonl" \
    >"$T/out" 2>"$T/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "7 records: 1 kept (14.3%), 6 rejected (record 2, function 1, arguments 1, grounding 1, order 1)" "$T/out"
then ok "validate summary"; else bad "validate summary (rc=$rc): $(cat "$T/out")"; fi
[ "$(wc -l <"$T/err")" -eq 6 ] && grep -q "recs.jsonl:2: order:" "$T/err" && ok "validate: reasons on stderr" ||
    bad "validate stderr: $(cat "$T/err")"
head -n 1 "$T/recs.jsonl" | cmp -s - "$T/kept.jsonl" && ok "validate: kept byte for byte" || bad "validate kept"
[ "$(wc -l <"$T/rej.jsonl")" -eq 6 ] && grep -q '"reasons":\["arguments: call 1 (send_sms): argument \\"urgency\\": not one of' "$T/rej.jsonl" &&
    ok "validate: rejected with reasons" || bad "validate rejected: $(cat "$T/rej.jsonl")"
"$OCTO" data validate --functions "$T/set.json" "$T/recs.jsonl" --strict >/dev/null 2>&1
[ $? -eq 1 ] && ok "validate --strict exits 1" || bad "validate --strict"
"$OCTO" data validate --functions "$T/set.json" "$T/kept.jsonl" --strict --json >"$T/out" 2>&1 &&
    grep -q '"records":1,"kept":1,"rejected":0' "$T/out" && ok "validate --json" || bad "validate --json: $(cat "$T/out")"

# the teacher judge (tests/servers/chat_server.py answers judge prompts: valid when every
# string value appears in the query): the rules keep both records, the judge rejects the
# one whose enum value the request never says
if command -v python3 >/dev/null 2>&1 && [ -f tests/servers/chat_server.py ]; then
    python3 tests/servers/chat_server.py >"$T/srv.out" 2>/dev/null &
    srv=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^PORT \([0-9]*\).*/\1/p' "$T/srv.out" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    cat >"$T/judge.jsonl" <<'EOF2'
{"query": "Set a gym alarm for 07:00, then text Anna that I'm up", "steps": ["Set a gym alarm for 07:00", "Text Anna that I'm up"], "calls": [{"function": "set_alarm", "arguments": {"time": "07:00", "label": "gym"}}, {"function": "send_sms", "arguments": {"to": "Anna", "text": "I'm up"}}]}
{"query": "Text Bob hi", "steps": ["Text Bob hi"], "calls": [{"function": "send_sms", "arguments": {"to": "Bob", "text": "hi", "urgency": "high"}}]}
EOF2
    "$OCTO" data validate --functions "$T/set.json" "$T/judge.jsonl" --judge "http://127.0.0.1:$port/v1" \
        --judge-model test --judge-key-env OCTO_TEST_NO_KEY --rejected "$T/jrej.jsonl" >"$T/out" 2>"$T/err"; rc=$?
    kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
    if [ $rc -eq 0 ] && grep -q "2 records: 1 kept (50.0%), 1 rejected (judge 1)" "$T/out" &&
       grep -q "judge: 2 answered, 0 without an answer" "$T/out" && grep -q 'judge: the query never mentions high' "$T/jrej.jsonl"
    then ok "validate --judge"; else bad "validate --judge (rc=$rc): $(cat "$T/out" "$T/err")"; fi
else
    echo "skip validate --judge: python3 absent"
fi

# split / stats / dedupe
i=0; : >"$T/many.jsonl"
while [ $i -lt 200 ]; do
    echo "{\"query\": \"text person $i hello\", \"steps\": [\"Text person $i hello\"], \"calls\": [{\"function\": \"send_sms\", \"arguments\": {\"to\": \"person $i\", \"text\": \"hello\"}}], \"domains\": [\"mini\"], \"template\": \"t$((i % 3))\"}" >>"$T/many.jsonl"
    i=$((i + 1))
done
"$OCTO" data split "$T/many.jsonl" -o "$T/p" --seed 5 >"$T/out" &&
    grep -q "p.train.jsonl: 160, .*p.valid.jsonl: 20, .*p.test.jsonl: 20" "$T/out" && ok "split counts" || bad "split: $(cat "$T/out")"
"$OCTO" data split "$T/many.jsonl" -o "$T/q" --seed 5 >/dev/null && cmp -s "$T/p.test.jsonl" "$T/q.test.jsonl" &&
    ok "split is deterministic" || bad "split determinism"
cat "$T/p.train.jsonl" "$T/p.valid.jsonl" "$T/p.test.jsonl" | sort | cmp -s - "$(sort "$T/many.jsonl" >"$T/sorted"; echo "$T/sorted")" &&
    ok "split is a partition" || bad "split partition"
"$OCTO" data stats "$T/many.jsonl" >"$T/out" && grep -q "200 records" "$T/out" && grep -q "templates: 3 distinct in 200 records" "$T/out" &&
    grep -q "1-grams: 203 / 800" "$T/out" && ok "stats" || bad "stats: $(cat "$T/out")"
cat "$T/many.jsonl" "$T/many.jsonl" >"$T/twice.jsonl"
sed 's/text person 1 hello/Text, person 1 HELLO!/' "$T/many.jsonl" | head -n 2 >>"$T/twice.jsonl"
"$OCTO" data dedupe "$T/twice.jsonl" -o "$T/dd.jsonl" --removed "$T/rm.jsonl" >"$T/out" &&
    grep -q "402 lines: 200 kept, 201 exact duplicates, 1 repeated queries dropped" "$T/out" &&
    cmp -s "$T/dd.jsonl" "$T/many.jsonl" && [ "$(wc -l <"$T/rm.jsonl")" -eq 202 ] && ok "dedupe" || bad "dedupe: $(cat "$T/out")"

if ls "$T" | grep -q '\.tmp\.'; then bad "temp files left: $(ls "$T")"; else ok "no temp files left"; fi
exit $fail
