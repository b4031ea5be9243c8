# lib.sh - shell steps shared by models/train_defaults.sh and experiments/*.sh.
#
# Sourced, not run. Every step writes its output atomically (the octo
# commands do; the rest goes through a temporary name and mv) and is skipped
# when the output already exists, so an interrupted recipe resumes where it
# stopped (FORCE=1 redoes everything).
#
# env: OCTO (binary, default build/octo), OCTO_SHARED (default ../shared),
#      THREADS (default 2), EVAL_WITH (auto | eval | run: how models are scored),
#      EVAL_FLAGS (more decoding flags for scoring, e.g. "--max-tokens 64")

OCTO_ROOT=${OCTO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OCTO=${OCTO:-$OCTO_ROOT/build/octo}
OCTO_SHARED=${OCTO_SHARED:-$OCTO_ROOT/../shared}
THREADS=${THREADS:-2}
EVAL_WITH=${EVAL_WITH:-auto}
EVAL_FLAGS=${EVAL_FLAGS:-}
FORCE=${FORCE:-0}
RECIPES=$OCTO_ROOT/models/recipes

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
die() {
    echo "error: $*" >&2
    exit 1
}
# done_ FILE: true when FILE exists and the step may be skipped
done_() { [ "$FORCE" != 1 ] && [ -s "$1" ]; }

need_octo() {
    [ -x "$OCTO" ] || die "$OCTO is not built (make -j2, or set OCTO=path/to/octo)"
}

# json_get FILE a.b.c : one value of a JSON file ("" when absent)
json_get() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)
EOF
}

# metrics_summary METRICS.jsonl : "first_loss last_loss last_eval_loss tokens tok_s steps"
metrics_summary() {
    python3 - "$1" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = [r["eval_loss"] for r in rows if "eval_loss" in r]
print(rows[0]["loss"], rows[-1]["loss"], ev[-1] if ev else "nan", rows[-1].get("tokens", 0),
      rows[-1].get("tok_s", 0), rows[-1]["step"])
EOF
}

# ---- data ----

# gen SET SEED N HOLDOUT OUT [more octo data gen flags]: generated records
gen() {
    local set=$1 seed=$2 n=$3 holdout=$4 out=$5
    shift 5
    done_ "$out" && return 0
    local fl=()
    for s in ${set//+/ }; do fl+=(--functions "$OCTO_ROOT/functions/$s.json"); done
    "$OCTO" data gen "${fl[@]}" --holdout "$holdout" --seed "$seed" --n "$n" "$@" -o "$out" >&2
}

# union_funcs OUT SET1 SET2 ...: one function set of several (for mixed-domain
# action models and evaluation); handlers are left out, so use it with --dry-run
union_funcs() {
    local out=$1
    shift
    done_ "$out" && return 0
    python3 - "$out" "$OCTO_ROOT/functions" "$@" <<'EOF'
import json, os, sys
out, d, sets = sys.argv[1], sys.argv[2], sys.argv[3:]
fns = []
for s in sets:
    for f in json.load(open(os.path.join(d, s + ".json")))["functions"]:
        f = dict(f)
        f.pop("handler", None)
        fns.append(f)
u = {"name": "+".join(sets), "description": "union of " + ", ".join(sets), "functions": fns}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(u, f, indent=1)
os.replace(tmp, out)
EOF
}

# taskbench_split OUT_PREFIX DEV_SHARE SEED: dailylife labeled records as canonical
# records, deduplicated, split into OUT_PREFIX.train.jsonl and OUT_PREFIX.test.jsonl
# (the dev split, never trained on)
taskbench_split() {
    local pre=$1 dev=$2 seed=$3
    done_ "$pre.test.jsonl" && return 0
    local lab=$OCTO_SHARED/data/taskbench-dailylife/labeled.jsonl
    [ -f "$lab" ] || die "$lab not found (set OCTO_SHARED)"
    "$OCTO" data convert --from taskbench "$lab" -o "$pre.all.jsonl" --rejects "$pre.rejects.jsonl" -q >&2
    "$OCTO" data dedupe "$pre.all.jsonl" -o "$pre.dedup.jsonl" >&2
    "$OCTO" data split "$pre.dedup.jsonl" -o "$pre" --ratios "$(python3 -c "print(1-$dev)"),$dev" --seed "$seed" >&2
}

# render planner|action SET_OR_FILE IN OUT
render() {
    local kind=$1 funcs=$2 in=$3 out=$4
    done_ "$out" && return 0
    case $funcs in */*) ;; *) funcs=$OCTO_ROOT/functions/$funcs.json ;; esac
    "$OCTO" data render "--$kind" --functions "$funcs" "$in" -o "$out" >&2
}

# cat_files OUT IN...: concatenation, atomically
cat_files() {
    local out=$1
    shift
    done_ "$out" && return 0
    cat "$@" >"$out.tmp" && mv "$out.tmp" "$out"
}

# first_n N IN OUT: the first N lines
first_n() {
    done_ "$3" && return 0
    head -n "$1" "$2" >"$3.tmp" && mv "$3.tmp" "$3"
}

# ---- models ----

# train OUT METRICS [octo train flags...]: one training run; its output goes to
# METRICS.log and its wall time to METRICS.time
train() {
    local out=$1 metrics=$2
    shift 2
    done_ "$out" && return 0
    rm -f "$metrics"
    log "octo train $* -o $out"
    local t0=$SECONDS
    "$OCTO" train -t "$THREADS" --metrics "$metrics" "$@" -o "$out" >"$metrics.log" 2>&1 || {
        tail -5 "$metrics.log" >&2
        die "octo train failed ($out)"
    }
    echo $((SECONDS - t0)) >"$metrics.time"
    log "trained $out in $((SECONDS - t0)) s: $(metrics_summary "$metrics")"
}

# trainable METRICS: trainable parameters of a run (from its log)
trainable() { sed -n 's/.* \([0-9][0-9]*\) trainable parameters.*/\1/p' "$1.log" | head -1; }

quantize() {
    done_ "$2" && return 0
    "$OCTO" quantize "$1" "$2" "$3" -t "$THREADS" >&2
}

# ---- evaluation ----

have_octo_eval() { "$OCTO" eval --help >/dev/null 2>&1; }

# evaluate PLANNER ACTION FUNCS TEST OUTDIR [--lora A.gguf ...]: writes OUTDIR/report.json.
# With `octo eval` in the binary it runs and scores (one planner adapter at
# most: it takes one --planner-lora); otherwise, or with several adapters,
# `octo run --json --dry-run` makes the predictions and `octo eval
# --predictions` (else score_plans.py, a subset of the same report) scores them.
# EVAL_TRAIN_LOGS: training metrics files for the report's loss chart.
evaluate() {
    local p=$1 a=$2 funcs=$3 test=$4 dir=$5
    shift 5
    done_ "$dir/report.json" && return 0
    mkdir -p "$dir"
    case $funcs in */*) ;; *) funcs=$OCTO_ROOT/functions/$funcs.json ;; esac
    local how=$EVAL_WITH n_lora=0 x tl=()
    for x in "$@"; do [ "$x" = --lora ] && n_lora=$((n_lora + 1)); done
    if [ "$how" = auto ]; then if have_octo_eval && [ $n_lora -le 1 ]; then how=eval; else how=run; fi; fi
    for x in ${EVAL_TRAIN_LOGS:-}; do [ -s "$x" ] && tl+=(--train-log "$x"); done
    if [ "$how" = eval ]; then
        local ad=() prev=
        for x in "$@"; do
            [ "$prev" = --lora ] && ad=(--planner-lora "$x")
            prev=$x
        done
        "$OCTO" eval --planner "$p" --action "$a" --functions "$funcs" --data "$test" -t "$THREADS" --greedy \
            $EVAL_FLAGS "${ad[@]}" "${tl[@]}" -q -o "$dir" >"$dir/eval.log" 2>&1 || {
            tail -5 "$dir/eval.log" >&2
            die "octo eval failed ($dir)"
        }
    else
        python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip(): print(" ".join(json.loads(l)["query"].split()))' "$test" >"$dir/queries.txt"
        # exit status 1 only says some request stopped: the scorers count those
        "$OCTO" run --planner "$p" --action "$a" --functions "$funcs" --dry-run --json --greedy \
            -t "$THREADS" -f "$dir/queries.txt" $EVAL_FLAGS "$@" >"$dir/predictions.jsonl" 2>"$dir/run.log" || true
        if have_octo_eval; then
            "$OCTO" eval --functions "$funcs" --data "$test" --predictions "$dir/predictions.jsonl" "${tl[@]}" \
                -q -o "$dir" >"$dir/eval.log" 2>&1 || die "octo eval --predictions failed ($dir)"
        else
            python3 "$RECIPES/score_plans.py" "$test" "$dir/predictions.jsonl" -o "$dir/report.json" >&2
        fi
    fi
}

# acc DIR: exact plan accuracy of DIR/report.json in percent
acc() { python3 -c "import json,sys; print('%.1f' % (100*json.load(open(sys.argv[1]))['overall']['exact_plan_accuracy']))" "$1/report.json"; }

# n_params MODEL: parameter count from octo info's tensor table
n_params() { "$OCTO" info -m "$1" | sed -n 's/^ *total: \([0-9]*\) parameters.*/\1/p'; }
