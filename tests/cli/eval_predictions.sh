#!/bin/sh
# `octo eval --predictions`: scoring a file of predictions without models, on
# a hand-made test set whose every score is worked out by hand below (the
# definitions are docs/eval.md's), TaskBench records detected and converted
# (DAG orders count), the LLM judge through the loopback chat server, and
# bad inputs: one-line errors and no report written. Exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is needed to check JSON"; exit 77; }

"$OCTO" eval --help >"$T/h" 2>&1 && grep -q "usage: octo eval --planner P --action A --functions F --data" "$T/h" &&
    ok "eval --help" || bad "eval --help"

cat >"$T/set.json" <<'EOF'
{"name": "mini", "functions": [
 {"name": "set_alarm", "description": "Set an alarm",
  "parameters": {"type": "object", "properties": {"time": {"type": "string"}, "label": {"type": "string"}},
                 "required": ["time"]}},
 {"name": "send_sms", "description": "Send a text message",
  "parameters": {"type": "object", "properties": {"to": {"type": "string"}, "text": {"type": "string"}},
                 "required": ["to", "text"]}},
 {"name": "take_photo", "description": "Take a photo", "parameters": {"type": "object", "properties": {}}}]}
EOF
# 1: one step, right. 2: a chain in the wrong order with one wrong value.
# 3: a DAG (photo before text, the alarm free) in another valid order, one
# argument object given as JSON text. 4: a run that stopped before its call.
cat >"$T/test.jsonl" <<'EOF'
{"query": "Set an alarm for 07:00", "steps": ["Set an alarm for 07:00"], "calls": [{"function": "set_alarm", "arguments": {"time": "07:00"}}]}
{"query": "Text Bob hi, then set an alarm for 08:00", "steps": ["Text Bob hi", "Set an alarm for 08:00"], "calls": [{"function": "send_sms", "arguments": {"to": "Bob", "text": "hi"}}, {"function": "set_alarm", "arguments": {"time": "08:00"}}]}
{"query": "Take a photo and text Ann the photo; also set an alarm for 09:00", "steps": ["Take a photo", "Text Ann the photo", "Set an alarm for 09:00"], "calls": [{"function": "take_photo", "arguments": {}}, {"function": "send_sms", "arguments": {"to": "Ann", "text": "photo"}}, {"function": "set_alarm", "arguments": {"time": "09:00"}}], "links": [[0, 1]]}

{"query": "Take a photo", "steps": ["Take a photo"], "calls": [{"function": "take_photo", "arguments": {}}]}
EOF
cat >"$T/pred.jsonl" <<'EOF'
{"query": "Set an alarm for 07:00", "steps": ["Set an alarm for 07:00"], "calls": [{"function": "set_alarm", "arguments": {"time": "07:00"}}]}
{"query": "Text Bob hi, then set an alarm for 08:00", "steps": ["Set an alarm for 08:00", "Text Bob hello"], "calls": [{"function": "set_alarm", "arguments": {"time": "08:00"}}, {"function": "send_sms", "arguments": {"to": "Bob", "text": "hello"}}]}
{"query": "Take a photo and text Ann the photo; also set an alarm for 09:00", "steps": ["Set an alarm for 09:00", "Take a photo", "Text Ann the photo"], "calls": [{"function": "set_alarm", "arguments": "{\"time\": \"09:00\"}"}, {"function": "take_photo", "arguments": {}}, {"function": "send_sms", "arguments": {"to": "Ann", "text": "photo"}}]}
{"query": "Take a photo", "steps": ["Take a photo"], "calls": [], "error": "step 1 (\"Take a photo\") maps to no function"}
EOF

"$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/pred.jsonl" -o "$T/rep" --json \
    >"$T/out.json" 2>"$T/err" && ok "eval --predictions --json (exit 0)" || bad "eval --predictions: $(cat "$T/err")"
# the numbers, by hand:
#  exact plan 2/4; step validity 3/4 (record 4 has a step but no call);
#  argument accuracy 4/7 reference calls; plan and arguments exact 2/4;
#  node: tp 6, predicted 6, gold 7 -> F1 12/13;
#  edge: record 2 chain send_sms>set_alarm vs set_alarm>send_sms (0/1/1), record 3 link
#        take_photo>send_sms vs the chain set_alarm>take_photo>send_sms (1/2/1) -> P 1/3, R 1/2, F1 0.4;
#  argument names 7/7/7 -> 1; values: record 2 has "hello" for "hi": 6/7/7 -> 6/7;
#  ROUGE-1: record 2 shares 8 of 9 tokens, others 1 -> (3 + 8/9)/4 = 35/36;
#  ROUGE-2: record 2 6 of 8 bigrams, record 3 11 of 12 -> (2 + 3/4 + 11/12)/4 = 11/12.
python3 - "$T/out.json" "$T/rep/report.json" <<'EOF' && ok "scores equal the hand-worked numbers" || bad "scores"
import json, sys
out = json.load(open(sys.argv[1]))
rep = json.load(open(sys.argv[2]))
assert out == rep, "--json and report.json differ"
o = out["overall"]
def eq(a, b):
    assert abs(a - b) < 1e-9, (a, b)
assert o["records"] == 4
eq(o["exact_plan_accuracy"], 0.5); eq(o["step_validity"], 0.75); eq(o["argument_accuracy"], 4 / 7)
eq(o["plan_and_arguments_exact"], 0.5)
assert (o["node"]["tp"], o["node"]["predicted"], o["node"]["gold"]) == (6, 6, 7); eq(o["node"]["f1"], 12 / 13)
assert (o["edge"]["tp"], o["edge"]["predicted"], o["edge"]["gold"]) == (1, 3, 2); eq(o["edge"]["f1"], 0.4)
eq(o["edge"]["precision"], 1 / 3); eq(o["edge"]["recall"], 0.5)
assert (o["argument_name"]["tp"], o["argument_name"]["predicted"], o["argument_name"]["gold"]) == (7, 7, 7)
assert (o["argument_value"]["tp"], o["argument_value"]["predicted"], o["argument_value"]["gold"]) == (6, 7, 7)
eq(o["argument_value"]["f1"], 6 / 7)
eq(o["rouge1"], 35 / 36); eq(o["rouge2"], 11 / 12)
bl = out["by_plan_length"]
assert sorted(bl) == ["1", "2", "3"], bl.keys()
assert [bl[k]["records"] for k in ("1", "2", "3")] == [2, 1, 1]
assert sum(v["records"] for v in bl.values()) == o["records"]
eq(bl["1"]["exact_plan_accuracy"], 0.5); eq(bl["2"]["exact_plan_accuracy"], 0); eq(bl["3"]["exact_plan_accuracy"], 1)
eq(bl["2"]["argument_accuracy"], 0); eq(bl["3"]["argument_accuracy"], 1)
assert out["speed"]["requests_timed"] == 0 and out["speed"]["peak_rss_kb"] > 0
assert out["title"].startswith("mini: test.jsonl") and out["functions"].endswith("set.json")
EOF
[ -s "$T/rep/report.md" ] && [ -s "$T/rep/accuracy_by_length.svg" ] && grep -q "<svg" "$T/rep/accuracy_by_length.svg" &&
    ! ls "$T/rep" | grep -q -v -e '^report\.json$' -e '^report\.md$' -e '^accuracy_by_length\.svg$' &&
    ok "report files, no temporary files left" || bad "report files: $(ls -a "$T/rep")"

# the readable table: one row per plan length and "all"
"$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/pred.jsonl" >"$T/table" 2>"$T/err" &&
    grep -q "^all  *4  *50.0  *75.0  *57.1  *50.0  *92.3  *40.0  *100.0  *85.7" "$T/table" &&
    grep -q "^1  *2 " "$T/table" && grep -q "^3  *1  *100.0" "$T/table" &&
    ok "table" || bad "table: $(cat "$T/table" "$T/err")"

# --limit: the first two records only (predictions may then run longer)
"$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/pred.jsonl" --limit 2 --json \
    >"$T/lim.json" 2>"$T/err" &&
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["overall"]; assert o["records"]==2 and o["exact_plan_accuracy"]==0.5' \
    "$T/lim.json" && ok "--limit" || bad "--limit: $(cat "$T/err")"

# null: no plan at all
printf 'null\n\n{}\n' >"$T/none.jsonl"
head -n 2 "$T/test.jsonl" >"$T/two.jsonl"
"$OCTO" eval --functions "$T/set.json" --data "$T/two.jsonl" --predictions "$T/none.jsonl" --json >"$T/none.json" 2>"$T/err" &&
python3 - "$T/none.json" <<'EOF' && ok "null and {} are empty predictions" || bad "empty predictions: $(cat "$T/err")"
import json, sys
o = json.load(open(sys.argv[1]))["overall"]
assert o["records"] == 2 and o["exact_plan_accuracy"] == 0 and o["step_validity"] == 0
assert o["node"]["predicted"] == 0 and o["node"]["gold"] == 3 and o["node"]["f1"] == 0
EOF

# TaskBench records (one JSON array), detected and converted: a DAG in any
# topological order counts; its task_links are the reference's edges
cat >"$T/tb.json" <<'EOF'
[{"id": "1", "type": "dag", "instruction": "Take a photo and text it to Ann, and set an alarm for 09:00",
  "task_steps": ["Step 1: Take a photo", "Step 2: Set an alarm for 09:00", "Step 3: Text Ann the photo"],
  "task_nodes": [{"task": "take_photo", "arguments": []}, {"task": "set_alarm", "arguments": [{"name": "time", "value": "09:00"}]},
                 {"task": "send_sms", "arguments": [{"name": "to", "value": "Ann"}, {"name": "text", "value": "photo"}]}],
  "task_links": [{"source": "take_photo", "target": "send_sms"}]},
 {"id": "2", "type": "single", "instruction": "Set an alarm for 07:00", "task_steps": ["Step 1: Set an alarm for 07:00"],
  "task_nodes": [{"task": "set_alarm", "arguments": [{"name": "time", "value": "07:00"}]}], "task_links": []}]
EOF
cat >"$T/tbpred.jsonl" <<'EOF'
{"steps": ["Take a photo", "Text Ann the photo", "Set an alarm for 09:00"], "calls": [{"function": "take_photo", "arguments": {}}, {"function": "send_sms", "arguments": {"to": "Ann", "text": "photo"}}, {"function": "set_alarm", "arguments": {"time": "09:00"}}]}
{"steps": ["Set an alarm for 07:00"], "calls": [{"function": "set_alarm", "arguments": {"time": "07:00"}}]}
EOF
"$OCTO" eval --functions "$T/set.json" --data "$T/tb.json" --predictions "$T/tbpred.jsonl" --json >"$T/tb.out" 2>"$T/err" &&
python3 - "$T/tb.out" <<'EOF' && ok "TaskBench records detected, DAG order counts" || bad "TaskBench: $(cat "$T/err" "$T/tb.out")"
import json, sys
j = json.load(open(sys.argv[1]))
o = j["overall"]
assert "TaskBench" in j["title"]
assert o["records"] == 2 and o["exact_plan_accuracy"] == 1 and o["plan_and_arguments_exact"] == 1
# edges: gold (take_photo, send_sms) only; the prediction's chain has 2 -> P 1/2, R 1
assert (o["edge"]["tp"], o["edge"]["predicted"], o["edge"]["gold"]) == (1, 2, 1)
assert [r["ours"] for r in j["paper"]][0] == 100
EOF

# the shipped TaskBench daily-life records scored against themselves
LAB=../shared/data/taskbench-dailylife/labeled.jsonl
if [ -f "$LAB" ] && [ -f functions/dailylife.json ]; then
    "$OCTO" data convert --from taskbench --functions dailylife --keep-unknown-tools -q "$LAB" -o "$T/lab.jsonl" \
        >/dev/null 2>&1
    "$OCTO" eval --functions dailylife --data "$LAB" --predictions "$T/lab.jsonl" --json >"$T/lab.out" 2>"$T/err" &&
    python3 - "$T/lab.out" "$T/lab.jsonl" <<'EOF' && ok "TaskBench labeled.jsonl auto-detected" || bad "labeled.jsonl: $(head -c 600 "$T/err")"
import json, sys
o = json.load(open(sys.argv[1]))["overall"]
n = sum(1 for l in open(sys.argv[2]) if l.strip())
assert o["records"] == n > 300, (o["records"], n)
assert o["exact_plan_accuracy"] == 1 and o["plan_and_arguments_exact"] == 1
assert o["node"]["f1"] == 1 and o["edge"]["f1"] == 1 and o["argument_value"]["f1"] == 1
assert o["step_validity"] < 1  # records calling tools outside the set are kept, and invalid
EOF
    grep -q "rejected" "$T/err" && ok "skipped TaskBench records reported on stderr" || bad "no skip report: $(cat "$T/err")"
else
    echo "skip TaskBench labeled.jsonl: ../shared/data absent"
fi

# the judge (tests/servers/chat_server.py: valid when every string value is in the query):
# record 1 valid, 2 invalid ("hello"), 3 valid, 4 made no call: invalid without asking
if [ -f tests/servers/chat_server.py ]; then
    python3 tests/servers/chat_server.py >"$T/srv.out" 2>/dev/null &
    srv=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^PORT \([0-9]*\).*/\1/p' "$T/srv.out" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    OCTO_TEST_NO_KEY= "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/pred.jsonl" \
        --judge "http://127.0.0.1:$port/v1" --judge-model test --judge-key-env OCTO_TEST_NO_KEY --json \
        >"$T/judge.json" 2>"$T/err"; rc=$?
    asked=$(curl -s "http://127.0.0.1:$port/stats" 2>/dev/null)
    kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
    [ $rc -eq 0 ] && python3 - "$T/judge.json" "$asked" <<'EOF' && ok "judge" || bad "judge (rc=$rc): $(cat "$T/err")"
import json, sys
o = json.load(open(sys.argv[1]))["overall"]
assert o["judged"] == 4 and o["judge_valid"] == 0.5, o
if sys.argv[2]:
    assert json.loads(sys.argv[2])["judge"] == 3  # the record without a call is not asked
EOF
fi

# bad inputs: one line on stderr, exit 1, no report directory
expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/norep" ]; then
        ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}
P="--functions $T/set.json --predictions $T/pred.jsonl -o $T/norep"
expect_err "missing test set" "octo eval: $T/nope.jsonl: " "$OCTO" eval $P --data "$T/nope.jsonl"
sed '2s/.*/{"query": "x", "steps": ["a"]}/' "$T/test.jsonl" >"$T/badtest.jsonl"
expect_err "bad test line -> FILE:LINE" "$T/badtest.jsonl:2: " "$OCTO" eval $P --data "$T/badtest.jsonl"
printf '{"query": "Set an alarm for 07:00"}\n{"steps": "x"}\n' >"$T/badpred.jsonl"
expect_err "bad prediction line -> FILE:LINE" "$T/badpred.jsonl:2: \"steps\": expected an array" \
    "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/badpred.jsonl" -o "$T/norep"
printf '{"query": "Set an alarm for 07:00"}\n{oops\n' >"$T/badpred.jsonl"
expect_err "prediction not JSON" "$T/badpred.jsonl:2: not valid JSON" \
    "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/badpred.jsonl" -o "$T/norep"
head -n 2 "$T/pred.jsonl" >"$T/short.jsonl"
expect_err "too few predictions" "2 predictions for 4 test records" \
    "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/short.jsonl" -o "$T/norep"
{ sed -n 2p "$T/pred.jsonl"; sed -n 1p "$T/pred.jsonl"; sed -n '3,$p' "$T/pred.jsonl"; } >"$T/swapped.jsonl"
expect_err "predictions out of order" "must follow the test set's order" \
    "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" --predictions "$T/swapped.jsonl" -o "$T/norep"
printf '[{"id": "1", "instruction": "x"' >"$T/badtb.json"
expect_err "broken TaskBench array" "not a valid JSON array" "$OCTO" eval $P --data "$T/badtb.json"
printf '{"id": "1", "instruction": "Set an alarm", "task_steps": ["Set"], "task_nodes": [{"task": "set_alarm", "arguments": []}], "task_links": []}\n{broken\n' \
    >"$T/badtb.jsonl"
expect_err "TaskBench line not JSON -> FILE:LINE" "$T/badtb.jsonl:2: " "$OCTO" eval $P --data "$T/badtb.jsonl"
expect_err "no function set" "--functions F (or --domain NAME) is required" \
    "$OCTO" eval --data "$T/test.jsonl" --predictions "$T/pred.jsonl" -o "$T/norep"
expect_err "no models" "--planner and --action" "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" -o "$T/norep"
expect_err "judge without model" "go together" "$OCTO" eval $P --data "$T/test.jsonl" --judge http://127.0.0.1:9
expect_err "missing planner model" "$T/none.gguf" "$OCTO" eval --functions "$T/set.json" --data "$T/test.jsonl" \
    --planner "$T/none.gguf" --action "$T/none.gguf" -o "$T/norep"
OCTO_MODELS_DIR="$T/models" expect_err "--domain without shipped models" "no planner model for domain android" \
    "$OCTO" eval --domain android --functions "$T/set.json" --data "$T/test.jsonl" -o "$T/norep"
exit $fail
