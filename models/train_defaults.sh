#!/usr/bin/env bash
# train_defaults.sh - reproduce octo's default models from data and seeds.
#
#   corpus -> tokenizer -> base model (llama, random init) -> pretraining
#   -> for android and dailylife: planner and action models (full fine-tuning)
#   -> quantized (each < 50 MB) -> scored on held-out data -> MODEL_CARD.md
#
# usage: MODE=quick|full models/train_defaults.sh
#   quick: tiny sizes and few steps, a few minutes: checks the recipe end to end
#   full:  the shipped models (hours on 2 cores; see models/README.md)
# Every step is skipped when its output exists (FORCE=1 redoes them), so an
# interrupted run resumes. Any variable below can be set in the environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/recipes/lib.sh"

MODE=${MODE:-quick}
case $MODE in
quick)
    : "${WORK:=$here/work/quick}" "${DEST:=$WORK/out}"
    : "${CORPUS_SOURCES:=fortunes,requests,generated}" "${CORPUS_GEN_N:=200}"
    : "${VOCAB:=1024}" "${N_EMBD:=64}" "${N_LAYER:=2}" "${N_HEAD:=2}" "${N_HEAD_KV:=2}" "${N_FF:=192}" "${CTX:=512}"
    : "${PRE_STEPS:=40}" "${PRE_SEQ:=128}" "${PRE_BATCH:=8}" "${PRE_LR:=3e-3}"
    : "${N_GEN:=300}" "${N_DEV:=50}" "${N_TEST:=60}" "${FT_EPOCHS:=1}" "${FT_BATCH:=8}" "${FT_LR:=3e-3}"
    : "${EVAL_FLAGS:=--max-tokens 48}" # an untrained model would write up to the limit
    ;;
full)
    : "${WORK:=$here/work/full}" "${DEST:=$here}"
    : "${CORPUS_SOURCES:=gcide,wordnet,fortunes,docs,requests,generated}" "${CORPUS_GEN_N:=3000}"
    : "${VOCAB:=8192}" "${N_EMBD:=384}" "${N_LAYER:=6}" "${N_HEAD:=6}" "${N_HEAD_KV:=6}" "${N_FF:=1024}" "${CTX:=512}"
    : "${PRE_STEPS:=3000}" "${PRE_SEQ:=256}" "${PRE_BATCH:=16}" "${PRE_LR:=1e-3}"
    : "${N_GEN:=12000}" "${N_DEV:=300}" "${N_TEST:=1000}" "${FT_EPOCHS:=2}" "${FT_BATCH:=16}" "${FT_LR:=5e-4}"
    ;;
*) die "MODE must be quick or full" ;;
esac
SEED=${SEED:-1}
FT_SEQ=${FT_SEQ:-$([ "$MODE" = quick ] && echo 512 || echo 256)}
FT_WARMUP=${FT_WARMUP:-0.05}
PRE_WARMUP=${PRE_WARMUP:-0.02}
TB_DEV=${TB_DEV:-0.3}       # share of labeled.jsonl kept out of training (the dev split)
TB_REPEAT=${TB_REPEAT:-3}   # copies of the TaskBench training records in dailylife's data
QTYPE=${QTYPE:-Q8_0}
OPEN_VALUES=${OPEN_VALUES:-0.35} # share of listed string values made new words (copy, not recall)
OBSERVATIONS=${OBSERVATIONS:-0.5} # share of training records with made-up call outputs (octo data gen --observations)
KINDS=${KINDS:-planner action}    # which models step 5 trains (with WARM_FROM, the others are copied)
DOMAINS=${DOMAINS-android dailylife} # DOMAINS="": corpus, tokenizer and base only
# WARM_FROM=DIR: fine-tune DIR/DOMAIN/{planner,action}.gguf further (earlier
# default models, e.g. from `git show REV:models/android/planner.gguf`)
# instead of a newly pretrained base; skips steps 1-3.
WARM_FROM=${WARM_FROM:-}
WARM_DESC=${WARM_DESC:-} # how the model cards name them
ALL_SETS="android dailylife ecommerce travel video_streaming"

need_octo
mkdir -p "$WORK/logs" "$DEST"
log "MODE=$MODE WORK=$WORK DEST=$DEST ($N_LAYER x $N_EMBD, vocab $VOCAB, $PRE_STEPS pretraining steps)"

if [ -z "$WARM_FROM" ]; then
# ---- 1. corpus ----
corpus=$WORK/corpus
if ! done_ "$corpus/manifest.json"; then
    OCTO=$OCTO OCTO_SHARED=$OCTO_SHARED SEED=$SEED GEN_N=$CORPUS_GEN_N SOURCES=$CORPUS_SOURCES \
        "$here/corpus/make_corpus.sh" "$corpus"
fi

# ---- 2. tokenizer: byte-level BPE with every agent token of every shipped set ----
tok=$WORK/tokenizer.gguf
if ! done_ "$tok"; then
    # <nexa_split>, <nexa_end> and <fn_NAME>: one token wherever they appear
    user=$(for s in $ALL_SETS; do "$OCTO" data render --tokens --planner --action --functions "$s"; done |
        grep -v '^<|' | awk '!seen[$0]++' | paste -sd,)
    "$OCTO" tokenizer train --vocab-size "$VOCAB" --user-special "$user" --name octo-default \
        -o "$tok" "$corpus/corpus.txt" >&2
fi

# ---- 3. base model ----
init=$WORK/base-init.gguf
done_ "$init" || "$OCTO" model init --arch llama --n-embd "$N_EMBD" --n-layer "$N_LAYER" --n-head "$N_HEAD" \
    --n-head-kv "$N_HEAD_KV" --n-ff "$N_FF" --ctx "$CTX" --vocab-from "$tok" --seed "$SEED" -o "$init" >&2

base=$WORK/base.gguf
train "$base" "$WORK/logs/pretrain.jsonl" --base "$init" --full --text "$corpus/corpus.txt" \
    --eval "$corpus/corpus_eval.txt" --seq-len "$PRE_SEQ" --batch "$PRE_BATCH" --epochs 1 \
    --max-steps "$PRE_STEPS" --lr "$PRE_LR" --min-lr "$(python3 -c "print($PRE_LR/10)")" --schedule cosine \
    --warmup-ratio "$PRE_WARMUP" --weight-decay 0.1 --eval-every "$(((PRE_STEPS + 3) / 4))" --seed "$SEED"
fi

# ---- 4. data per domain ----
# seeds: 100+ training, 200+ test (held-out phrasings), 300+ dev (eval loss)
data=$WORK/data
mkdir -p "$data"
i=0
for d in $DOMAINS; do
    gen "$d" $((100 + 10 * SEED + i)) "$N_GEN" train "$data/$d.train.gen.jsonl" --open-values "$OPEN_VALUES" \
        --observations "$OBSERVATIONS"
    gen "$d" $((200 + 10 * SEED + i)) "$N_TEST" test "$data/$d.test.jsonl"
    gen "$d" $((300 + 10 * SEED + i)) "$N_DEV" train "$data/$d.dev.jsonl" --open-values "$OPEN_VALUES" \
        --observations "$OBSERVATIONS"
    train_in=("$data/$d.train.gen.jsonl")
    if [ "$d" = dailylife ]; then
        taskbench_split "$data/taskbench" "$TB_DEV" $((400 + SEED))
        for _ in $(seq "$TB_REPEAT"); do train_in+=("$data/taskbench.train.jsonl"); done
    fi
    cat_files "$data/$d.train.jsonl" "${train_in[@]}"
    for k in planner action; do
        render "$k" "$d" "$data/$d.train.jsonl" "$data/$d.$k.train.jsonl"
        render "$k" "$d" "$data/$d.dev.jsonl" "$data/$d.$k.dev.jsonl"
    done
    i=$((i + 1))
done

# ---- 5. fine-tune, quantize, score ----
for d in $DOMAINS; do
    mkdir -p "$WORK/$d" "$DEST/$d"
    for k in planner action; do
        if [[ " $KINDS " != *" $k "* ]]; then
            [ -n "$WARM_FROM" ] || die "KINDS=\"$KINDS\" leaves out $k: it needs WARM_FROM to take it from"
            [ -f "$DEST/$d/$k.gguf" ] || cp "$WARM_FROM/$d/$k.gguf" "$DEST/$d/$k.gguf"
            continue
        fi
        start=${WARM_FROM:+$WARM_FROM/$d/$k.gguf}
        train "$WORK/$d/$k.f32.gguf" "$WORK/logs/$d.$k.jsonl" --base "${start:-$base}" --full \
            --data "$data/$d.$k.train.jsonl" --eval "$data/$d.$k.dev.jsonl" --chat-template octo \
            --seq-len "$FT_SEQ" --batch "$FT_BATCH" --epochs "$FT_EPOCHS" --lr "$FT_LR" --schedule cosine \
            --warmup-ratio "$FT_WARMUP" --weight-decay 0.01 --skip-bad --seed "$SEED"
        quantize "$WORK/$d/$k.f32.gguf" "$DEST/$d/$k.gguf" "$QTYPE"
    done
    export EVAL_TRAIN_LOGS="$WORK/logs/pretrain.jsonl $WORK/logs/$d.planner.jsonl $WORK/logs/$d.action.jsonl"
    evaluate "$DEST/$d/planner.gguf" "$DEST/$d/action.gguf" "$d" "$data/$d.test.jsonl" "$WORK/eval/$d.test"
    log "$d: exact plan accuracy on held-out generated requests: $(acc "$WORK/eval/$d.test")%"
    if [ "$d" = dailylife ]; then
        evaluate "$DEST/$d/planner.gguf" "$DEST/$d/action.gguf" "$d" "$data/taskbench.test.jsonl" \
            "$WORK/eval/$d.taskbench-dev"
        log "$d: exact plan accuracy on the TaskBench dev split: $(acc "$WORK/eval/$d.taskbench-dev")%"
    fi
done

# ---- 6. model cards ----
cfg=()
for k in MODE SEED VOCAB N_EMBD N_LAYER N_HEAD N_HEAD_KV N_FF CTX PRE_STEPS PRE_SEQ PRE_BATCH PRE_LR PRE_WARMUP \
    N_GEN N_DEV N_TEST OPEN_VALUES OBSERVATIONS KINDS WARM_FROM WARM_DESC FT_EPOCHS FT_BATCH FT_LR FT_SEQ FT_WARMUP TB_DEV TB_REPEAT QTYPE THREADS \
    CORPUS_SOURCES CORPUS_GEN_N; do cfg+=("$k=${!k}"); done
python3 -c '
import json, os, sys
cfg = dict(a.split("=", 1) for a in sys.argv[2:])
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(cfg, f, indent=1)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])' "$WORK/config.json" "${cfg[@]}"
for d in $DOMAINS; do
    python3 "$here/recipes/model_card.py" --domain "$d" --work "$WORK" --dest "$DEST/$d" --octo "$OCTO"
done
log "done: $(for d in $DOMAINS; do ls -l "$DEST/$d"/*.gguf | awk '{printf "%s %.1f MB; ", $9, $5/1e6}'; done)"
