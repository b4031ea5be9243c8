#!/usr/bin/env bash
# table4_examples.sh - the paper's Table 4: the android planner fully
# fine-tuned on 100, 250, 500 and 1000 training examples (the first N of one
# generated set, plan lengths 1-5 equally often), same epochs and settings,
# scored with the default android action model on the same held-out requests.
#
# usage: MODE=quick|full experiments/table4_examples.sh
# env:   COUNTS ("100 250 500 1000")
. "$(dirname "$0")/common.sh"
W=$EXP_WORK/table4
mkdir -p "$W"
case $MODE in
quick) : "${COUNTS:=25 50}" ;;
full) : "${COUNTS:=100 250 500 1000}" ;;
esac
ensure_base
action=$(default_action android)
max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
gen android $((530 + SEED)) "$max" train "$W/pool.jsonl"
planner_data android "$N_DEV" $((630 + SEED)) train "$W/dev"
gen android $((730 + SEED)) "$N_TEST" test "$W/test.jsonl"

declare -A paper=([100]=78.1 [250]=85.3 [500]=92.5 [1000]=98.1)
t=$W/table.md
{
    echo "| training examples | steps | train time | train loss | eval loss | exact plan accuracy | paper |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$t.tmp"
for n in $COUNTS; do
    first_n "$n" "$W/pool.jsonl" "$W/train-$n.jsonl"
    render planner android "$W/train-$n.jsonl" "$W/train-$n.planner.jsonl"
    finetune "$W/planner-$n.gguf" "$W/planner-$n.metrics" "$W/train-$n.planner.jsonl" "$W/dev.planner.jsonl" full
    evaluate "$W/planner-$n.gguf" "$action" android "$W/test.jsonl" "$W/eval-$n"
    steps=$(tail -1 "$W/planner-$n.metrics" | python3 -c "import json,sys; print(json.load(sys.stdin)['step'])")
    echo "| $n | $steps | $(cat "$W/planner-$n.metrics.time") s | $(last "$W/planner-$n.metrics" loss) |" \
        "$(last "$W/planner-$n.metrics" eval_loss) | $(acc "$W/eval-$n")% | ${paper[$n]:-} |" >>"$t.tmp"
done
mv "$t.tmp" "$t"
table "Table 4: training examples, android planner (full fine-tuning, $EPOCHS epochs)" "$t"
