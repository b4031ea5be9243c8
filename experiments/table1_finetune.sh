#!/usr/bin/env bash
# table1_finetune.sh - the paper's Table 1: full fine-tuning against LoRA
# (rank 64 / alpha 256 and rank 16 / alpha 32, all linear layers) of the
# android planner, same data, epochs, batch and warmup; each LoRA is merged
# into the base and scored like the full model, with the default android
# action model turning steps into calls.
#
# usage: MODE=quick|full experiments/table1_finetune.sh
# env:   N_TRAIN, N_TEST, EPOCHS, BATCH, FULL_LR, LORA_LR, SETTINGS ("full 64,256 16,32")
. "$(dirname "$0")/common.sh"
W=$EXP_WORK/table1
mkdir -p "$W"
SETTINGS=${SETTINGS:-full 64,256 16,32}

ensure_base
action=$(default_action android)
planner_data android "$N_TRAIN" $((500 + SEED)) train "$W/train"
planner_data android "$N_DEV" $((600 + SEED)) train "$W/dev"
gen android $((700 + SEED)) "$N_TEST" test "$W/test.jsonl"

declare -A paper=([full]=98.1 [64,256]=85.1 [16,32]=72.9)
t=$W/table.md
{
    echo "| setting | trainable parameters | lr | train time | train loss | eval loss | exact plan accuracy | paper |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
} >"$t.tmp"
for s in $SETTINGS; do
    tag=${s/,/-}
    if [ "$s" = full ]; then
        finetune "$W/full.gguf" "$W/full.metrics" "$W/train.planner.jsonl" "$W/dev.planner.jsonl" full
        planner=$W/full.gguf name="full fine-tuning" lr=$FULL_LR
    else
        finetune "$W/lora-$tag.gguf" "$W/lora-$tag.metrics" "$W/train.planner.jsonl" "$W/dev.planner.jsonl" "$s"
        merge "$W/lora-$tag.merged.gguf" linear "$W/lora-$tag.gguf"
        planner=$W/lora-$tag.merged.gguf name="LoRA r${s%,*} alpha ${s#*,}" lr=$LORA_LR
    fi
    m=$W/$([ "$s" = full ] && echo full || echo "lora-$tag").metrics
    evaluate "$planner" "$action" android "$W/test.jsonl" "$W/eval-$tag"
    echo "| $name | $(trainable "$m") | $lr | $(cat "$m.time") s | $(last "$m" loss) | $(last "$m" eval_loss) |" \
        "$(acc "$W/eval-$tag")% | ${paper[$s]:-} |" >>"$t.tmp"
done
mv "$t.tmp" "$t"
table "Table 1: full fine-tuning vs LoRA, android planner, $N_TRAIN examples, $N_TEST held-out requests" "$t"
