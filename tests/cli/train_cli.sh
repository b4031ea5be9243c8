#!/bin/sh
# `octo train` from the command line: help, one-line errors for bad flags
# and bad data (FILE:LINE), pretraining on plain text into a GGUF model that
# loads and generates, a LoRA adapter written as GGUF and PEFT, the metrics
# log, and a resume refused when its settings differ.
# Run by tests/run.sh with OCTO set to the binary; exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-phi-3.gguf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

"$OCTO" train --help >"$T/h" 2>&1 && grep -q "usage: octo train" "$T/h" && grep -q -- "--resume" "$T/h" \
    && ok "train --help" || bad "train --help"

expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}
expect_err "no base"           "--base MODEL and -o OUT are required" "$OCTO" train --data x.jsonl
expect_err "no data"           "--data FILE or --text"          "$OCTO" train --base m.gguf -o o.gguf
expect_err "full with lora"    "exclude each other"             "$OCTO" train --base m --data d --full --lora-rank 4 -o o
expect_err "bad lr"            "expected a number"              "$OCTO" train --base m --data d --lr fast -o o
expect_err "missing base file" "nope.gguf: cannot open"         "$OCTO" train --base "$T/nope.gguf" --data d -o "$T/o"

if [ ! -f "$VOCAB" ]; then echo "skip: $VOCAB absent (the rest needs ../shared)"; exit $fail; fi
"$OCTO" model init --arch llama --n-embd 32 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 64 --ctx 256 \
    --vocab-from "$VOCAB" --seed 5 -o "$T/m.gguf" || { bad "model init"; exit 1; }

# chat data with a broken third line
cat >"$T/d.jsonl" <<'EOF'
{"messages": [{"role": "user", "content": "open the door"}, {"role": "assistant", "content": "open_door()"}]}
{"prompt": "turn on the lights", "completion": "lights_on()"}
{"messages": [{"role": "user", "content": "unterminated
{"messages": [{"role": "user", "content": "play music"}, {"role": "assistant", "content": "play_music()"}]}
{"messages": [{"role": "user", "content": "call mom"}, {"role": "assistant", "content": "call(\"mom\")"}]}
EOF
expect_err "bad line is FILE:LINE" "d.jsonl:3:" "$OCTO" train --base "$T/m.gguf" --data "$T/d.jsonl" \
    --chat-template phi3 --seq-len 64 -q -o "$T/a.gguf"

# LoRA with --skip-bad: GGUF adapter, PEFT directory, metrics log
if "$OCTO" train --base "$T/m.gguf" --data "$T/d.jsonl" --skip-bad --chat-template phi3 --seq-len 64 \
       --batch 2 --epochs 3 --lr 1e-2 --lora-rank 4 --lora-alpha 8 -t 1 --metrics "$T/m.jsonl" \
       --peft-dir "$T/peft" -o "$T/a.gguf" >"$T/out" 2>"$T/err"; then
    grep -q "skipped 1 bad example" "$T/err" && ok "--skip-bad counts" || bad "--skip-bad: $(cat "$T/err")"
    grep -q "tok/s, MFU" "$T/err" && ok "throughput and MFU printed" || bad "no MFU line: $(cat "$T/err")"
    [ -f "$T/a.gguf" ] && [ -f "$T/peft/adapter_config.json" ] && [ -f "$T/peft/adapter_model.safetensors" ] \
        && ok "adapter as GGUF and PEFT" || bad "adapter files missing: $(ls "$T" "$T/peft")"
    "$OCTO" lora info "$T/a.gguf" >"$T/li" 2>&1 && grep -q "blk.0.attn_q.weight" "$T/li" \
        && ok "adapter readable" || bad "lora info: $(cat "$T/li")"
    n=$(wc -l <"$T/m.jsonl")
    steps=$(grep -c '"step":' "$T/m.jsonl")
    [ "$n" -ge 3 ] && [ "$n" -eq "$steps" ] && grep -q '"grad_norm":' "$T/m.jsonl" && grep -q '"lr":' "$T/m.jsonl" \
        && ok "metrics log: $n steps" || bad "metrics log: $(cat "$T/m.jsonl")"
else
    bad "LoRA training: $(cat "$T/err")"
fi

# pretraining on plain text, full fine-tuning with added tokens: the model loads and generates
i=0; : >"$T/t.txt"
while [ $i -lt 40 ]; do echo "the projector shows the slides while the lights go down $i" >>"$T/t.txt"; i=$((i+1)); done
if "$OCTO" train --base "$T/m.gguf" --text "$T/t.txt" --full --add-tokens "<call>,</call>" --seq-len 32 --batch 2 \
       --epochs 2 --lr 3e-3 --warmup-ratio 0.1 --schedule cosine -t 1 --save-every 4 --metrics "$T/p.jsonl" \
       -o "$T/p.gguf" >"$T/out" 2>"$T/err"; then
    first=$(head -n 1 "$T/p.jsonl" | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
    last=$(tail -n 1 "$T/p.jsonl" | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 1) }' && ok "pretraining loss falls ($first -> $last)" \
        || bad "pretraining loss $first -> $last"
    ids=$("$OCTO" tokenize -m "$T/p.gguf" --no-bos "<call>")
    [ -n "$ids" ] && [ "$(echo "$ids" | wc -w)" -eq 1 ] && ok "added token is one token ($ids)" || bad "added token: '$ids'"
    "$OCTO" generate -m "$T/p.gguf" -p "the projector" -n 4 --greedy -q >/dev/null 2>"$T/gerr" \
        && ok "trained model generates" || bad "generate: $(cat "$T/gerr")"
    [ -f "$T/p.gguf.ckpt/checkpoint.bin" ] && ok "checkpoint written" || bad "no checkpoint in $T/p.gguf.ckpt"
    # a resume with other settings is refused, naming the setting
    expect_err "resume with other settings" "this run has lr=0.001" "$OCTO" train --base "$T/m.gguf" \
        --text "$T/t.txt" --full --add-tokens "<call>,</call>" --seq-len 32 --batch 2 --epochs 2 --lr 1e-3 \
        --warmup-ratio 0.1 --schedule cosine -t 1 --resume "$T/p.gguf.ckpt" -q -o "$T/p2.gguf"
else
    bad "pretraining: $(cat "$T/err")"
fi
# Ctrl-C: the run stops after the current step, checkpoints and writes its output
"$OCTO" train --base "$T/m.gguf" --text "$T/t.txt" --full --seq-len 32 --batch 2 --epochs 1000 -t 1 \
    --save-every 100000 --metrics "$T/i.jsonl" -o "$T/i.gguf" >/dev/null 2>"$T/ierr" &
pid=$!
n=0
while [ $n -lt 200 ] && [ "$(cat "$T/i.jsonl" 2>/dev/null | wc -l)" -lt 2 ]; do sleep 0.05; n=$((n+1)); done
kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 0 ] && grep -q "interrupted after step" "$T/ierr" && [ -f "$T/i.gguf" ] && [ -f "$T/i.gguf.ckpt/checkpoint.bin" ] \
    && ok "Ctrl-C writes a checkpoint and the output" || bad "Ctrl-C: rc=$rc $(cat "$T/ierr")"
[ -z "$(ls "$T" | grep tmp)" ] && ok "no temp files left" || bad "temp files left: $(ls "$T")"
exit $fail
