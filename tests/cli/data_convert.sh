#!/bin/sh
# `octo data convert --from taskbench` on the real TaskBench Daily Life file
# (../shared), checked against an independent python3 reading of the same
# file: how many records convert and why the others are rejected, and for
# every converted record that its calls follow task_links, each step travels
# with its call, the arguments are the labeled ones and the steps lost their
# "Step N:" prefix. Also: the dailylife set matches tool_desc.json.
# Exit 77 (skip) without ../shared or python3.
set -u
OCTO=${OCTO:-build/octo}
SHARED=${OCTO_SHARED:-../shared}
TB=$SHARED/data/taskbench-dailylife
if [ ! -f "$TB/labeled.jsonl" ]; then echo "skip: $TB/labeled.jsonl absent"; exit 77; fi
if ! command -v python3 >/dev/null 2>&1; then echo "skip: python3 absent"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# the shipped dailylife set is what the converter makes from tool_desc.json
if python3 functions/convert_taskbench_tools.py "$TB/tool_desc.json" -o "$T/dailylife.json" 2>/dev/null &&
   cmp -s "$T/dailylife.json" functions/dailylife.json; then echo "ok   functions/dailylife.json is up to date"
else echo "FAIL functions/dailylife.json differs from the converter's output"; fail=1; fi
"$OCTO" functions validate functions/dailylife.json | grep -q "40 functions" &&
    echo "ok   dailylife: 40 functions" || { echo "FAIL dailylife does not load"; fail=1; }

"$OCTO" data convert --from taskbench "$TB/labeled.jsonl" -o "$T/out.jsonl" --rejects "$T/rej.jsonl" \
    --functions functions/dailylife.json 2>"$T/err"
rc=$?
if [ $rc -ne 0 ]; then echo "FAIL convert exit $rc: $(cat "$T/err")"; exit 1; fi
grep "records:" "$T/err"

python3 - "$TB" "$T/out.jsonl" "$T/rej.jsonl" "$T/err" <<'EOF' || fail=1
import json, re, sys
from collections import Counter
tb, out_path, rej_path, err_path = sys.argv[1:5]
tools = {t["id"]: [p["name"] for p in t["parameters"]] for t in json.load(open(f"{tb}/tool_desc.json"))["nodes"]}
recs = [json.loads(l) for l in open(f"{tb}/labeled.jsonl") if l.strip()]

def reason(r):
    steps, nodes, links = r["task_steps"], r["task_nodes"], r.get("task_links") or []
    if len(steps) != len(nodes): return "steps/nodes count mismatch"
    if any(n["task"] not in tools for n in nodes): return "unknown tool"
    names = [n["task"] for n in nodes]
    for l in links:
        if not isinstance(l.get("source"), str) or not isinstance(l.get("target"), str): return "malformed link"
        for end in (l["source"], l["target"]):
            if names.count(end) == 0: return "link to a missing node"
            if names.count(end) > 1: return "ambiguous link"
    # cycle: repeatedly remove nodes without incoming links
    edges = {(l["source"], l["target"]) for l in links}
    left = set(names)
    while left:
        free = [n for n in left if not any(s in left and t == n for s, t in edges)]
        if not free: return "cycle"
        left -= set(free)
    return None

want = Counter(reason(r) for r in recs)
kept_ids = [r["id"] for r in recs if reason(r) is None]
out = [json.loads(l) for l in open(out_path)]
rej = [json.loads(l) for l in open(rej_path)]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        ok = False
        print("FAIL", msg)
check(len(out) == want[None], f"converted {len(out)}, python says {want[None]}")
check(len(rej) == len(recs) - want[None], f"rejected {len(rej)}, python says {len(recs) - want[None]}")
check([o["id"] for o in out] == kept_ids, "converted ids differ from python's")
summary = [l for l in open(err_path) if "records:" in l][0]
for k, v in want.items():
    if k is not None:
        check(f"{k} {v}" in summary, f"summary lacks '{k} {v}': {summary.strip()}")
check(f"{len(recs)} records: {want[None]} converted" in summary, "summary counts")
reported = [l for l in open(err_path) if ": rejected (" in l]
check(len(reported) == len(rej), "one stderr line per rejected record")

strip = re.compile(r"^\s*(step\s*\d+\s*[:.)-]?|\d+[.)](?= ))\s*", re.I)
by_id = {r["id"]: r for r in recs}
for o in out:
    r = by_id[o["id"]]
    fns = [c["function"] for c in o["calls"]]
    check(sorted(fns) == sorted(n["task"] for n in r["task_nodes"]), f"{o['id']}: functions differ")
    pos = {f: i for i, f in enumerate(fns)}
    for l in r["task_links"]:
        check(pos[l["source"]] < pos[l["target"]], f"{o['id']}: link {l} runs backwards")
    check(sorted(o["steps"]) == sorted(strip.sub("", s, count=1) or s for s in r["task_steps"]),
          f"{o['id']}: steps are not the labeled ones, prefix stripped")
    for i, s in enumerate(o["steps"]):
        named = {f for f in fns if re.search(r"(?<![A-Za-z0-9_])" + re.escape(f) + r"(?![A-Za-z0-9_])", s)}
        if len(named) == 1:
            check(fns[i] in named, f"{o['id']}: step {i} names {named} but its call is {fns[i]}")
    labeled = {n["task"]: {a["name"]: a["value"] for a in n["arguments"]} for n in r["task_nodes"]}
    for c in o["calls"]:
        check(c["arguments"] == labeled[c["function"]], f"{o['id']}: arguments of {c['function']} differ")
    check(o["query"] == r["instruction"] and o["domains"] == ["dailylife"], f"{o['id']}: query/domains")
    n_links = len(r["task_links"])
    check(len(o["links"]) == n_links, f"{o['id']}: links")
    srcs = Counter(l["source"] for l in r["task_links"])
    dsts = Counter(l["target"] for l in r["task_links"])
    if n_links == len(fns) - 1 and all(v == 1 for v in list(srcs.values()) + list(dsts.values())):
        # the links form one path: exactly that order
        chain = {l["source"]: l["target"] for l in r["task_links"]}
        check(all(chain.get(fns[i]) == fns[i + 1] for i in range(len(fns) - 1)), f"{o['id']}: not the chain's order")
print(("ok  " if ok else "FAIL") + f" {len(out)} converted, {len(rej)} rejected, as python3 computes; "
      "order, steps and arguments checked record by record")
sys.exit(0 if ok else 1)
EOF

# --keep-unknown-tools: only the link and count rules reject
"$OCTO" data convert --from taskbench "$TB/labeled.jsonl" -o "$T/keep.jsonl" --keep-unknown-tools -q 2>/dev/null
python3 - "$TB" "$T/keep.jsonl" <<'EOF2' || fail=1
import json, sys
tb, out = sys.argv[1:3]
n = 0
for l in open(f"{tb}/labeled.jsonl"):
    r = json.loads(l)
    names = [x["task"] for x in r["task_nodes"]]
    good = len(r["task_steps"]) == len(names) and all(
        isinstance(k.get("source"), str) and isinstance(k.get("target"), str)
        and names.count(k["source"]) == 1 and names.count(k["target"]) == 1 for k in r["task_links"])
    n += good
got = sum(1 for _ in open(out))
print(("ok  " if got == n else "FAIL") + f" --keep-unknown-tools: {got} converted, python3 says {n}")
sys.exit(0 if got == n else 1)
EOF2

# the converted file is canonical: it reads back strictly, stats and validate run on it
"$OCTO" data stats "$T/out.jsonl" --json >"$T/stats.json" && python3 -c "
import json,sys; s=json.load(open('$T/stats.json')); n=sum(1 for _ in open('$T/out.jsonl'))
sys.exit(0 if s['records']==n and s['bad_lines']==0 else 1)" && echo "ok   stats reads every converted record" ||
    { echo "FAIL stats"; fail=1; }
"$OCTO" data validate --functions dailylife "$T/out.jsonl" --show 0 >"$T/v.txt" 2>/dev/null &&
    grep -q "records:" "$T/v.txt" && echo "ok   validate: $(cat "$T/v.txt")" || { echo "FAIL validate"; fail=1; }
exit $fail
