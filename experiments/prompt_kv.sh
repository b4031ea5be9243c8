#!/usr/bin/env bash
# prompt_kv.sh - the paper's point in numbers: the fine-tuned planner's prompt
# is the request alone, while the same base prompted in context needs every
# function description in its prompt. For held-out android requests this
# prints, for both ways: prompt tokens (mean, max; counted with the model's
# tokenizer), KV-cache bytes of the prompt (F16 K and V, octo's cache:
# layers x (K dim + V dim) x 2 bytes per token), measured prefill time
# (`octo bench -p`), and exact plan accuracy (the in-context row only when
# its prompts fit in the model's context).
#
# usage: MODE=quick|full experiments/prompt_kv.sh
# env:   N_PROMPTS (requests whose prompts are counted), PLANNER (fine-tuned planner)
. "$(dirname "$0")/common.sh"
W=$EXP_WORK/prompt_kv
mkdir -p "$W"
N_PROMPTS=${N_PROMPTS:-$([ "$MODE" = quick ] && echo 10 || echo 100)}
ensure_base
action=$(default_action android)
PLANNER=${PLANNER:-$DEFAULTS/android/planner.f32.gguf}
gen android $((740 + SEED)) "$N_PROMPTS" test "$W/test.jsonl"

# the in-context request: every function (name, description, arguments), the
# task, then the request, on one line (octo run reads one request a line)
python3 - "$OCTO_ROOT/functions/android.json" "$W/test.jsonl" "$W/incontext.jsonl" <<'EOF'
import json, sys
fs = json.load(open(sys.argv[1]))["functions"]
desc = []
for f in fs:
    props = f.get("parameters", {}).get("properties", {})
    args = ", ".join(f"{k} ({v.get('type', 'any')}: {v.get('description', '')})" for k, v in props.items())
    desc.append(f"{f['name']}: {f['description']}" + (f" Arguments: {args}." if args else ""))
head = ("You plan tasks on a phone. Available functions: " + " | ".join(desc) +
        " Split the request into 1 to 5 steps, each one call of one function. Request: ")
with open(sys.argv[3], "w") as out:
    for l in open(sys.argv[2]):
        r = json.loads(l)
        r["query"] = head + " ".join(r["query"].split())
        out.write(json.dumps(r) + "\n")
EOF

# count MODEL RECORDS: "mean max" prompt tokens, the prompt as octo renders it
count() {
    local model=$1 recs=$2
    python3 -c '
import json, sys
for l in open(sys.argv[1]): print(" ".join(json.loads(l)["query"].split()))' "$recs" |
        while IFS= read -r q; do
            "$OCTO" tokenize -m "$model" --special "<|user|>$q<|end|><|assistant|>" | wc -w
        done | awk '{s += $1; if ($1 > m) m = $1} END {printf "%.1f %d\n", s / NR, m}'
}
# kv_per_token MODEL: bytes of F16 K and V per token
kv_per_token() {
    "$OCTO" info -m "$1" | python3 -c '
import re, sys
t = sys.stdin.read()
L = int(re.search(r"n_layer (\d+)", t).group(1)); hkv = int(re.search(r"n_head_kv (\d+)", t).group(1))
hd = re.search(r"head_dim (\d+) \(v (\d+)\)", t)
print(L * hkv * (int(hd.group(1)) + int(hd.group(2))) * 2)'
}
ctx_of() { "$OCTO" info -m "$1" | sed -n 's/.*context \([0-9]*\),.*/\1/p'; }
# prefill_ms MODEL N: measured time to process an N-token prompt
prefill_ms() {
    "$OCTO" bench -m "$1" -p "$2" -n 1 -r 3 -t "$THREADS" --json 2>/dev/null |
        python3 -c "import json,sys; print('%.1f' % (1000 * $2 / json.loads(sys.stdin.read().strip().splitlines()[-1])['pp_tok_s']))"
}

kv=$(kv_per_token "$BASE")
ctx=$(ctx_of "$BASE")
t=$W/table.md
{
    echo "| planner | prompt tokens mean / max | KV cache of the prompt mean / max | prefill (mean prompt) | exact plan accuracy |"
    echo "| --- | --- | --- | --- | --- |"
} >"$t.tmp"
for way in finetuned incontext; do
    if [ $way = finetuned ]; then m=$PLANNER recs=$W/test.jsonl name="fine-tuned, request only"; else
        m=$BASE recs=$W/incontext.jsonl name="base prompted with the $(python3 -c "import json; print(len(json.load(open('$OCTO_ROOT/functions/android.json'))['functions']))") function descriptions"
    fi
    read -r mean max < <(count "$m" "$recs")
    kvm=$(python3 -c "print('%.1f KiB / %.1f KiB' % ($mean * $kv / 1024, $max * $kv / 1024))")
    if [ $((${max%.*} + 128)) -lt "$ctx" ]; then # room for the plan
        evaluate "$m" "$action" android "$recs" "$W/eval-$way"
        a="$(acc "$W/eval-$way")%"
        pf="$(prefill_ms "$m" "${mean%.*}") ms"
    else
        a="prompts do not fit the context ($ctx tokens)"
        pf="n/a"
    fi
    echo "| $name | $mean / $max | $kvm | $pf | $a |" >>"$t.tmp"
done
mv "$t.tmp" "$t"
table "Prompt length and KV cache, android planner ($N_PROMPTS held-out requests; $kv bytes of KV per token)" "$t"
