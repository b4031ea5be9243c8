#!/bin/sh
# The agent commands end to end on a random-weight model: `octo data render`
# (training text, tokens, vocabulary), `octo plan`, `octo act`, `octo run`
# with real exec handlers (run, dry run, failing handler, -f, --json), and
# their errors. The vocabulary is learned here (`octo tokenizer train`), so
# nothing outside the repository is needed. Exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is needed to check JSON"; exit 77; }

for c in plan act run; do
    if "$OCTO" $c --help >"$T/h" 2>&1 && grep -q "usage: octo $c" "$T/h"; then ok "$c --help"; else bad "$c --help"; fi
done
"$OCTO" data render --help | grep -q "usage: octo data render" && ok "data render --help" || bad "data render --help"

# a function set whose handlers really run: echo_text logs each call to a file
cat >"$T/fns.json" <<EOF
{"name": "clitest", "functions": [
 {"name": "echo_text", "description": "Echo a text",
  "parameters": {"type": "object", "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10}},
                 "required": ["text"]},
  "handler": {"exec": ["sh", "-c", "printf '%s\\\\n' \"\$1\" >>'$T/calls.log'; printf '%s\\\\n' \"\$1\"", "sh", "{text}"]}}
]}
EOF
cat >"$T/fail.json" <<'EOF'
{"name": "failing", "functions": [
 {"name": "always_fails", "description": "Fails",
  "parameters": {"type": "object", "properties": {"x": {"type": "string", "maxLength": 4}}},
  "handler": {"exec": ["false"]}}
]}
EOF

# vocabulary learned here + the agent tokens, random model
i=0; : >"$T/corpus.txt"
while [ $i -lt 40 ]; do
    echo "Say hello to Anna, then echo the text twice. {\"text\":\"hi there\"} Take a photo at 7:30." >>"$T/corpus.txt"
    i=$((i+1))
done
"$OCTO" tokenizer train --vocab-size 400 -o "$T/bpe.gguf" "$T/corpus.txt" >/dev/null 2>&1 || { bad "tokenizer train"; exit 1; }
"$OCTO" data render --tokens --planner --action --functions "$T/fns.json" >"$T/tokens" &&
    [ "$(tr '\n' ' ' <"$T/tokens")" = "<|user|> <|end|> <|assistant|> <nexa_split> <nexa_end> <fn_echo_text> " ] &&
    ok "data render --tokens" || bad "data render --tokens: $(cat "$T/tokens")"
"$OCTO" data render --planner --action --functions "$T/fns.json" --vocab-from "$T/bpe.gguf" --vocab-out "$T/vocab.gguf" &&
    "$OCTO" data render --planner --action --functions "$T/fail.json" --vocab-from "$T/vocab.gguf" --vocab-out "$T/vocab2.gguf" &&
    "$OCTO" model init --arch llama --n-embd 32 --n-layer 1 --n-head 2 --n-ff 64 --ctx 512 --vocab-from "$T/vocab2.gguf" \
        -o "$T/m.gguf" >/dev/null 2>&1 && ok "vocabulary and model" || { bad "vocabulary and model"; exit 1; }

# act: one call, valid for the schema
"$OCTO" act -m "$T/m.gguf" --functions "$T/fns.json" -t 1 --max-tokens 80 "Echo hello" >"$T/act.json" 2>"$T/err" &&
python3 - "$T/act.json" <<'EOF' && ok "act prints one valid call" || bad "act: $(cat "$T/act.json" "$T/err")"
import json, sys
c = json.load(open(sys.argv[1]))
assert set(c) == {"function", "arguments"} and c["function"] == "echo_text"
assert set(c["arguments"]) == {"text"} and 1 <= len(c["arguments"]["text"]) <= 10
EOF
"$OCTO" act -m "$T/m.gguf" --functions "$T/fns.json" -t 1 --max-tokens 80 --observation '{"path": "/tmp/x"}' "Echo it" >/dev/null 2>&1 &&
    ok "act --observation" || bad "act --observation"

# plan: numbered steps, and --json
"$OCTO" plan -m "$T/m.gguf" -t 1 --max-tokens 80 "Say hi, then say bye" >"$T/plan" 2>"$T/err" && head -n 1 "$T/plan" | grep -q '^1\. ' &&
    ok "plan prints numbered steps" || bad "plan: $(cat "$T/plan" "$T/err")"
"$OCTO" plan -m "$T/m.gguf" -t 1 --max-tokens 80 --json "Say hi" >"$T/plan.json" 2>/dev/null &&
python3 - "$T/plan.json" <<'EOF' && ok "plan --json" || bad "plan --json: $(cat "$T/plan.json")"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["query"] == "Say hi" and 1 <= len(p["steps"]) <= 5 and all(s.strip() for s in p["steps"])
EOF

# run --json: the handler ran once per step and its output is the observation
rm -f "$T/calls.log"
"$OCTO" run --planner "$T/m.gguf" --action "$T/m.gguf" --functions "$T/fns.json" -t 1 --max-tokens 80 --json "Say hi and bye" \
    >"$T/run.json" 2>"$T/err" &&
python3 - "$T/run.json" "$T/calls.log" <<'EOF' && ok "run --json executes the handlers" || bad "run --json: $(cat "$T/run.json" "$T/err")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
r = json.loads(lines[0])
assert r["query"] == "Say hi and bye" and len(r["steps"]) == len(r["calls"]) >= 1
assert all(set(c) == {"function", "arguments"} for c in r["calls"])
log = open(sys.argv[2]).read().splitlines()
assert log == [c["arguments"]["text"] for c in r["calls"]], (log, r["calls"])
assert r["observations"] == [t + "\n" for t in log]
assert "error" not in r
EOF

# --dry-run: the same calls, nothing executed
rm -f "$T/calls.log"
"$OCTO" run --planner "$T/m.gguf" --action "$T/m.gguf" --functions "$T/fns.json" -t 1 --max-tokens 80 --dry-run "Say hi and bye" \
    >"$T/dry" 2>&1 && [ ! -e "$T/calls.log" ] && grep -q "^step 1: echo_text" "$T/dry" && grep -q "dry run" "$T/dry" &&
    ok "run --dry-run executes nothing" || bad "run --dry-run: $(cat "$T/dry")"

# -f: one request a line (blank lines skipped), one JSON object each
printf 'Say hi\n\nSay bye\n' >"$T/reqs.txt"
"$OCTO" run --planner "$T/m.gguf" --action "$T/m.gguf" --functions "$T/fns.json" -t 1 --max-tokens 80 --json -f "$T/reqs.txt" \
    >"$T/multi.json" 2>/dev/null && [ "$(wc -l <"$T/multi.json")" -eq 2 ] &&
    python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/multi.json" &&
    ok "run -f" || bad "run -f: $(cat "$T/multi.json")"

# a failing handler stops the run: exit 1, a report naming the step and the call
"$OCTO" run --planner "$T/m.gguf" --action "$T/m.gguf" --functions "$T/fail.json" -t 1 --max-tokens 80 "Do it" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "octo run: step 1 .*always_fails.*failed" "$T/err"; then ok "failing handler stops the run"
else bad "failing handler (rc=$rc): $(cat "$T/err")"; fi
"$OCTO" run --planner "$T/m.gguf" --action "$T/m.gguf" --functions "$T/fail.json" -t 1 --max-tokens 80 --json "Do it" >"$T/out" 2>/dev/null
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert 'step 1' in r['error'] and len(r['calls'])==1" "$T/out" &&
    ok "failing handler in --json" || bad "failing handler --json: $(cat "$T/out")"

# errors
expect_err() { # name fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err"; then ok "$name"; else bad "$name (rc=$rc): $(cat "$T/err")"; fi
}
OCTO_MODELS_DIR="$T/none" expect_err "run --domain without models" "no planner model for domain android" \
    "$OCTO" run --domain android "Take a photo"
"$OCTO" model init --arch llama --n-embd 32 --n-layer 1 --n-head 2 --n-ff 64 --vocab-from "$T/bpe.gguf" -o "$T/plain.gguf" \
    >/dev/null 2>&1
expect_err "act with a model lacking the tokens" "no <nexa_end> token" \
    "$OCTO" act -m "$T/plain.gguf" --functions "$T/fns.json" "Echo hi"
expect_err "plan with a model lacking the tokens" "not a planner model" "$OCTO" plan -m "$T/plain.gguf" "hi"
expect_err "act without --functions" "--functions F is required" "$OCTO" act -m "$T/m.gguf" "hi"
expect_err "act with an unknown set" "no shipped function set" "$OCTO" act -m "$T/m.gguf" --functions nope_set "hi"

# data render: exact text, bad records reported with their line, --strict fails
cat >"$T/recs.jsonl" <<'EOF'
{"query":"Say hi","steps":["Echo hi"],"calls":[{"function":"echo_text","arguments":{"text":"hi"}}]}
{"query":"Say hi twice","steps":["Echo hi","Echo hi again"],"calls":[{"function":"echo_text","arguments":{"text":"hi"}},{"function":"echo_text","arguments":{"text":"hi"}}]}
{"query":"Bad","steps":["Fly"],"calls":[{"function":"fly","arguments":{}}]}
EOF
"$OCTO" data render --planner "$T/recs.jsonl" -o "$T/planner.jsonl" 2>"$T/err" &&
    [ "$(head -n 1 "$T/planner.jsonl")" = '{"messages":[{"role":"user","content":"Say hi"},{"role":"assistant","content":"Echo hi<nexa_end>"}]}' ] &&
    [ "$(wc -l <"$T/planner.jsonl")" -eq 3 ] && ok "data render --planner" || bad "data render --planner: $(cat "$T/planner.jsonl" "$T/err")"
"$OCTO" data render --action --functions "$T/fns.json" "$T/recs.jsonl" -o "$T/action.jsonl" 2>"$T/err" &&
    [ "$(wc -l <"$T/action.jsonl")" -eq 3 ] && grep -q "recs.jsonl:3: skipped: .*fly" "$T/err" &&
    grep -q '"<fn_echo_text>{\\"text\\":\\"hi\\"}<nexa_end>"' "$T/action.jsonl" &&
    ok "data render --action" || bad "data render --action: $(cat "$T/action.jsonl" "$T/err")"
expect_err "data render --strict" "recs.jsonl:3:" "$OCTO" data render --action --strict --functions "$T/fns.json" \
    "$T/recs.jsonl" -o "$T/strict.jsonl"
[ ! -e "$T/strict.jsonl" ] && ok "--strict leaves no output" || bad "--strict left an output"

exit $fail
