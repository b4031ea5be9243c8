#!/usr/bin/env bash
# table2_multilora.sh - the paper's Table 2: one planner LoRA per domain
# (android, ecommerce, video_streaming, travel; rank 64 / alpha 256, all
# linear layers, trained on that domain alone), combined 1, 2, 3 and 4 at a
# time and tested on requests that mix the combined domains. Combinations:
# linear merging (the paper's), TIES and DARE merging (`octo lora merge
# --method`), and the adapters applied unmerged (`--lora A --lora B ...`).
# One action model, fully fine-tuned on all four domains, makes the calls
# for every row, so the table measures the planners.
#
# usage: MODE=quick|full experiments/table2_multilora.sh
# env:   DOMAINS_ORDER, RANK_ALPHA (64,256), METHODS ("linear ties dare unmerged"), DENSITY (0.5)
. "$(dirname "$0")/common.sh"
W=$EXP_WORK/table2
mkdir -p "$W" "$EXP_WORK/funcs"
DOMAINS_ORDER=${DOMAINS_ORDER:-android ecommerce video_streaming travel}
RANK_ALPHA=${RANK_ALPHA:-64,256}
METHODS=${METHODS:-linear ties dare unmerged}
DENSITY=${DENSITY:-0.5}
read -r -a D <<<"$DOMAINS_ORDER"
ensure_base

# one LoRA per domain
i=0
for d in "${D[@]}"; do
    planner_data "$d" "$N_TRAIN" $((510 + 10 * SEED + i)) train "$W/$d.train"
    planner_data "$d" "$N_DEV" $((610 + 10 * SEED + i)) train "$W/$d.dev"
    finetune "$W/lora-$d.gguf" "$W/lora-$d.metrics" "$W/$d.train.planner.jsonl" "$W/$d.dev.planner.jsonl" "$RANK_ALPHA"
    i=$((i + 1))
done

# the shared action model: full fine-tuning on the four domains' calls
all=$(
    IFS=+
    echo "${D[*]}"
)
union_funcs "$EXP_WORK/funcs/$all.json" "${D[@]}"
cat_files "$W/action.train.jsonl" $(for d in "${D[@]}"; do echo "$W/$d.train.jsonl"; done)
render action "$EXP_WORK/funcs/$all.json" "$W/action.train.jsonl" "$W/action.train.action.jsonl"
render action "$EXP_WORK/funcs/$all.json" "$W/${D[0]}.dev.jsonl" "$W/action.dev.action.jsonl"
train "$W/action.gguf" "$W/action.metrics" --base "$BASE" --full --lr "$FULL_LR" --data "$W/action.train.action.jsonl" \
    --eval "$W/action.dev.action.jsonl" --chat-template octo --seq-len "$SEQ" --batch "$BATCH" --epochs "$EPOCHS" \
    --warmup-ratio "$WARMUP" --skip-bad --seed "$SEED"

declare -A paper=([1]=85.1 [2]=82.2 [3]=78.9 [4]=69.7)
t=$W/table.md
{
    printf "| domains | test requests |"
    for m in $METHODS; do printf " %s |" "$m"; done
    echo " paper (linear) |"
    printf "| --- | --- |"
    for m in $METHODS; do printf " --- |"; done
    echo " --- |"
} >"$t.tmp"
for k in $(seq 1 ${#D[@]}); do
    sets=("${D[@]:0:k}")
    key=$(
        IFS=+
        echo "${sets[*]}"
    )
    funcs=$EXP_WORK/funcs/$key.json
    union_funcs "$funcs" "${sets[@]}"
    # mixed requests: with two or more domains, half the records draw from several
    gen "$key" $((710 + 10 * SEED + k)) "$N_TEST" test "$W/test-$k.jsonl"
    adapters=()
    for d in "${sets[@]}"; do adapters+=("$W/lora-$d.gguf"); done
    row="| ${key//+/ + } | $N_TEST |"
    for m in $METHODS; do
        if [ "$m" = unmerged ]; then
            lf=()
            for a in "${adapters[@]}"; do lf+=(--lora "$a"); done
            evaluate "$BASE" "$W/action.gguf" "$funcs" "$W/test-$k.jsonl" "$W/eval-$k-$m" "${lf[@]}"
        else
            merge "$W/merged-$k-$m.gguf" "$m" "${adapters[@]}" $([ "$m" = linear ] || echo --density "$DENSITY")
            evaluate "$W/merged-$k-$m.gguf" "$W/action.gguf" "$funcs" "$W/test-$k.jsonl" "$W/eval-$k-$m"
        fi
        row+=" $(acc "$W/eval-$k-$m")% |"
    done
    echo "$row ${paper[$k]} |" >>"$t.tmp"
done
mv "$t.tmp" "$t"
table "Table 2: per-domain planner LoRAs (r${RANK_ALPHA%,*}/a${RANK_ALPHA#*,}) combined, exact plan accuracy on mixed requests" "$t"
