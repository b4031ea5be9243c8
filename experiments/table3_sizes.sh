#!/usr/bin/env bash
# table3_sizes.sh - the paper's Table 3 (base model size), at the sizes this
# machine trains: each size gets its own base (same tokenizer and corpus,
# the same number of pretraining tokens), then the android planner is fully
# fine-tuned on the same data and scored with the default android action model.
#
# usage: MODE=quick|full experiments/table3_sizes.sh
# env:   SIZES ("LAYERSxWIDTH ..."; heads = width / 64, feed-forward = 8/3 width),
#        PRE_STEPS, PRE_BATCH, PRE_SEQ, PRE_LR (pretraining of each size)
. "$(dirname "$0")/common.sh"
W=$EXP_WORK/table3
mkdir -p "$W"
case $MODE in
quick) : "${SIZES:=1x32 2x64}" "${PRE_STEPS:=30}" "${PRE_BATCH:=8}" "${PRE_SEQ:=128}" "${PRE_LR:=3e-3}" ;;
full) : "${SIZES:=4x256 6x384 8x512}" "${PRE_STEPS:=3000}" "${PRE_BATCH:=16}" "${PRE_SEQ:=256}" "${PRE_LR:=1e-3}" ;;
esac
ensure_base # also makes the tokenizer and the corpus
tok=$DEFAULTS/tokenizer.gguf
corpus=$DEFAULTS/corpus
action=$(default_action android)
planner_data android "$N_TRAIN" $((520 + SEED)) train "$W/train"
planner_data android "$N_DEV" $((620 + SEED)) train "$W/dev"
gen android $((720 + SEED)) "$N_TEST" test "$W/test.jsonl"

t=$W/table.md
{
    echo "| base | parameters | pretraining loss (eval) | planner train time | planner eval loss | exact plan accuracy |"
    echo "| --- | --- | --- | --- | --- | --- |"
} >"$t.tmp"
for s in $SIZES; do
    L=${s%x*} E=${s#*x}
    H=$(((E + 63) / 64))
    F=$(((E * 8 / 3 + 63) / 64 * 64))
    init=$W/base-$s.init.gguf
    done_ "$init" || "$OCTO" model init --arch llama --n-embd "$E" --n-layer "$L" --n-head "$H" --n-head-kv "$H" \
        --n-ff "$F" --ctx 512 --vocab-from "$tok" --seed "$SEED" -o "$init" >&2
    train "$W/base-$s.gguf" "$W/base-$s.metrics" --base "$init" --full --text "$corpus/corpus.txt" \
        --eval "$corpus/corpus_eval.txt" --seq-len "$PRE_SEQ" --batch "$PRE_BATCH" --epochs 1 --max-steps "$PRE_STEPS" \
        --lr "$PRE_LR" --schedule cosine --warmup-ratio 0.02 --weight-decay 0.1 --eval-every "$PRE_STEPS" --seed "$SEED"
    BASE=$W/base-$s.gguf finetune "$W/planner-$s.gguf" "$W/planner-$s.metrics" "$W/train.planner.jsonl" \
        "$W/dev.planner.jsonl" full
    evaluate "$W/planner-$s.gguf" "$action" android "$W/test.jsonl" "$W/eval-$s"
    echo "| llama $L x $E ($H heads, ff $F) | $(n_params "$init") | $(last "$W/base-$s.metrics" eval_loss) |" \
        "$(cat "$W/planner-$s.metrics.time") s | $(last "$W/planner-$s.metrics" eval_loss) | $(acc "$W/eval-$s")% |" >>"$t.tmp"
done
mv "$t.tmp" "$t"
table "Table 3: base size, android planner (full fine-tuning, $N_TRAIN examples; the paper: Gemma 2B 85.6%, Phi-3 Mini 98.1%, Gemma 7B 99.7%)" "$t"
