# common.sh - settings and steps shared by the experiment scripts (sourced).
#
# MODE=quick: tiny models and data, minutes: checks a script end to end.
# MODE=full:  the numbers for docs/results.md (hours; see experiments/README.md).
# The base model, tokenizer and default action models come from
# models/train_defaults.sh of the same MODE (built first when missing).
# Every variable below can be set in the environment.
set -euo pipefail
EXP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$EXP_DIR/../models/recipes/lib.sh"

MODE=${MODE:-quick}
case $MODE in
quick)
    : "${N_TRAIN:=200}" "${N_TEST:=40}" "${N_DEV:=40}" "${EPOCHS:=1}" "${BATCH:=8}" "${SEQ:=512}"
    : "${FULL_LR:=3e-3}" "${LORA_LR:=1e-2}" "${EVAL_FLAGS:=--max-tokens 48}"
    ;;
full)
    : "${N_TRAIN:=1000}" "${N_TEST:=1000}" "${N_DEV:=200}" "${EPOCHS:=2}" "${BATCH:=4}" "${SEQ:=256}"
    : "${FULL_LR:=5e-4}" "${LORA_LR:=2e-3}"
    ;;
*) die "MODE must be quick or full" ;;
esac
WARMUP=${WARMUP:-0.2} # the paper's warmup ratio
SEED=${SEED:-1}
DEFAULTS=${DEFAULTS:-$OCTO_ROOT/models/work/$MODE} # train_defaults.sh's WORK
EXP_WORK=${EXP_WORK:-$EXP_DIR/work/$MODE}
BASE=${BASE:-$DEFAULTS/base.gguf}
need_octo
mkdir -p "$EXP_WORK"

# the pretrained base of train_defaults.sh (corpus, tokenizer, pretraining)
ensure_base() {
    [ -s "$BASE" ] && return 0
    log "no base model at $BASE: running models/train_defaults.sh (MODE=$MODE, base only)"
    MODE=$MODE WORK=$DEFAULTS DOMAINS="" "$OCTO_ROOT/models/train_defaults.sh"
}

# default_action DOMAIN: train_defaults.sh's action model of DOMAIN (F32, before quantization)
default_action() {
    local a=$DEFAULTS/$1/action.f32.gguf
    if [ ! -s "$a" ]; then
        log "no $1 action model at $a: running models/train_defaults.sh (MODE=$MODE, DOMAINS=$1)"
        MODE=$MODE WORK=$DEFAULTS DEST=$DEFAULTS/out DOMAINS=$1 "$OCTO_ROOT/models/train_defaults.sh" >&2
    fi
    echo "$a"
}

# planner_data SETS N SEED HOLDOUT OUT: records of SETS ("a+b" mixes sets) and
# their planner rendering OUT.planner.jsonl
planner_data() {
    local sets=$1 n=$2 seed=$3 holdout=$4 out=$5
    gen "$sets" "$seed" "$n" "$holdout" "$out.jsonl"
    local f=$sets
    if [[ $sets == *+* ]]; then
        f=$EXP_WORK/funcs/$sets.json
        mkdir -p "$EXP_WORK/funcs"
        union_funcs "$f" ${sets//+/ }
    fi
    render planner "$f" "$out.jsonl" "$out.planner.jsonl"
}

# finetune OUT METRICS TRAIN DEV full|r,alpha [more octo train flags]: a planner run
finetune() {
    local out=$1 metrics=$2 data=$3 dev=$4 how=$5
    shift 5
    local m=(--full --lr "$FULL_LR")
    if [ "$how" != full ]; then m=(--lora-rank "${how%,*}" --lora-alpha "${how#*,}" --lora-targets all-linear --lr "$LORA_LR"); fi
    train "$out" "$metrics" --base "$BASE" "${m[@]}" --data "$data" --eval "$dev" --chat-template octo \
        --seq-len "$SEQ" --batch "$BATCH" --epochs "$EPOCHS" --warmup-ratio "$WARMUP" --skip-bad --seed "$SEED" "$@"
}

# merge OUT METHOD ADAPTER...: adapters folded into the base
merge() {
    local out=$1 method=$2
    shift 2
    done_ "$out" && return 0
    "$OCTO" lora merge --base "$BASE" "$@" --method "$method" --seed "$SEED" -t "$THREADS" -o "$out" >&2
}

# last METRICS KEY: loss or eval_loss of a run's last logged value
last() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
v = [json.loads(l).get(sys.argv[2]) for l in open(sys.argv[1]) if l.strip()]
v = [x for x in v if x is not None]
print("%.3f" % v[-1] if v else "n/a")
EOF
}

# table TITLE FILE: print a Markdown table kept in FILE (header lines first) and save it
table() {
    echo
    echo "## $1 (MODE=$MODE)"
    echo
    cat "$2"
}
