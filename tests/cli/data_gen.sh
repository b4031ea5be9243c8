#!/bin/sh
# `octo data gen`: the offline generator from the command line, on every
# shipped function set: same seed same bytes, plan lengths 1-5 equally often,
# the validator keeps 100%, --holdout parts use disjoint phrasings, mixed
# domains, one-line errors. Run by tests/run.sh with OCTO set; 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 needed"; exit 77; }
"$OCTO" data gen --help >"$T/h" 2>&1 && grep -q "usage: octo data gen" "$T/h" && ok "data gen --help" || bad "data gen --help"

for s in android ecommerce video_streaming travel dailylife; do
    "$OCTO" data gen --functions "functions/$s.json" -n 500 --seed 7 -o "$T/$s.a.jsonl" 2>"$T/err" || bad "$s: gen ($(cat "$T/err"))"
    "$OCTO" data gen --functions "functions/$s.json" -n 500 --seed 7 -o "$T/$s.b.jsonl" 2>/dev/null
    cmp -s "$T/$s.a.jsonl" "$T/$s.b.jsonl" && ok "$s: same seed, same bytes" || bad "$s: not deterministic"
    "$OCTO" data validate --functions "functions/$s.json" "$T/$s.a.jsonl" >"$T/v" 2>&1
    grep -q "500 kept (100.0%)" "$T/v" && ok "$s: validate keeps 100%" || bad "$s: validate: $(tail -n 3 "$T/v")"
    python3 - "$T/$s.a.jsonl" "$s" <<'PY' && ok "$s: lengths 1-5 x 100, fields" || bad "$s: lengths or fields"
import json, sys
n = [0] * 6
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert r["domains"] == [sys.argv[2]] and r["template"] and r["query"]
    assert len(r["steps"]) == len(r["calls"])
    n[len(r["calls"])] += 1
assert n[1:] == [100] * 5, n
PY
done

# default size: 800 x functions (ecommerce has 12)
"$OCTO" data gen --functions functions/ecommerce.json -o "$T/full.jsonl" 2>/dev/null
[ "$(wc -l <"$T/full.jsonl")" -eq 9600 ] && ok "default n = 800 x 12" || bad "default n: $(wc -l <"$T/full.jsonl")"

# holdout: the phrasings of the test part never appear in the train part
"$OCTO" data gen --functions functions/android.json -n 2000 --seed 1 --holdout train -o "$T/tr.jsonl" 2>/dev/null
"$OCTO" data gen --functions functions/android.json -n 500 --seed 2 --holdout test -o "$T/te.jsonl" 2>/dev/null
python3 - "$T/tr.jsonl" "$T/te.jsonl" <<'PY' && ok "holdout parts disjoint" || bad "holdout parts share phrasings"
import json, re, sys
def ids(p):
    s = set()
    for line in open(p):
        s |= set(re.findall(r"[a-z_]+/[vs]\d+", json.loads(line)["template"]))
    return s
a, b = ids(sys.argv[1]), ids(sys.argv[2])
assert a and b and not (a & b), sorted(a & b)[:5]
PY

# several sets: records mixing domains, all calls from the named sets
"$OCTO" data gen --functions functions/android.json --functions functions/travel.json -n 400 --domain-mix 0.5 -o "$T/mix.jsonl" 2>/dev/null
python3 - "$T/mix.jsonl" <<'PY' && ok "mixed domains" || bad "mixed domains"
import json, sys
mixed = 0
for line in open(sys.argv[1]):
    d = json.loads(line)["domains"]
    assert set(d) <= {"android", "travel"}
    mixed += len(d) == 2
assert mixed > 60, mixed
PY

# errors: one line, non-zero
expect_err() { # name fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc: $(cat "$T/err"))"; fi
}
expect_err "no --functions" "--functions F is required" "$OCTO" data gen -o "$T/x.jsonl"
expect_err "unknown set" "no-such-set" "$OCTO" data gen --functions no-such-set -o "$T/x.jsonl"
expect_err "bad holdout" "expected train, test or none" "$OCTO" data gen --functions functions/android.json --holdout dev -o "$T/x.jsonl"
expect_err "sets sharing a function name" "send_email is in both" "$OCTO" data gen --functions functions/android.json --functions functions/dailylife.json -o "$T/x.jsonl"
mkdir -p "$T/ph/android" "$T/ph/common"
cp -r phrasings/common/. "$T/ph/common/"
expect_err "phrasings missing a function" "missing" "$OCTO" data gen --functions functions/android.json --phrasings "$T/ph" -o "$T/x.jsonl"
[ ! -e "$T/x.jsonl" ] && ok "nothing written on error" || bad "output left behind"
exit $fail
