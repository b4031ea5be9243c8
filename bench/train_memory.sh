#!/bin/sh
# Training memory: LoRA rank 64 (all linear layers) on a Phi-3-Mini-shaped
# model (phi3, 32 layers, n_embd 3072, 32 heads, n_ff 8192, the Phi-3
# vocabulary, 3.8 B parameters) whose frozen base stays Q4_0, one batch of
# 1 x 256 tokens. Prints the peak RSS `octo train` reports (getrusage), the
# base file's size and the adapter's trainable parameters.
#
# The base is made once with `octo model init --type Q4_0` (random weights:
# memory and speed do not depend on the values) and kept in bench/models/.
# Making it needs about 16 GB of RAM and 16 GB of free disk for a moment.
#
# Usage: sh bench/train_memory.sh [BUILD]   (OCTO_BENCH_THREADS, OCTO_TRAIN_STEPS)
set -eu
BUILD=${1:-build}
OCTO=$BUILD/octo
DIR=${OCTO_BENCH_DIR:-bench/models}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-phi-3.gguf
THREADS=${OCTO_BENCH_THREADS:-2}
STEPS=${OCTO_TRAIN_STEPS:-2}
if [ ! -f "$VOCAB" ]; then
    echo "bench/train_memory.sh: $VOCAB not found (set OCTO_SHARED)"; exit 1
fi
mkdir -p "$DIR"
MODEL=$DIR/phi3-mini-Q4_0.gguf
if [ ! -f "$MODEL" ]; then
    echo "making $MODEL (octo model init --arch phi3 ... --type Q4_0)"
    "$OCTO" model init --arch phi3 --n-embd 3072 --n-layer 32 --n-head 32 --n-head-kv 32 --n-ff 8192 \
        --ctx 4096 --vocab-from "$VOCAB" --seed 1 --type Q4_0 -o "$MODEL"
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# STEPS rows of 256 tokens of chat data (long enough: each answer is ~180 words)
awk -v n="$STEPS" 'BEGIN {
    split("open the slides connect projector send email to my boss with the summary then " \
          "turn up brightness take a screenshot of the last slide and share it", w, " ");
    s = 7; for (r = 0; r < n; r++) { a = "";
        for (i = 0; i < 180; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = a w[int(s / 65536) % 25 + 1] " " }
        printf "{\"messages\": [{\"role\": \"user\", \"content\": \"plan this\"}, {\"role\": \"assistant\", \"content\": \"%s\"}]}\n", a } }' \
    >"$T/data.jsonl"

echo "training memory: LoRA r64 all-linear, Phi-3-Mini shape, Q4_0 base ($(du -m "$MODEL" | cut -f1) MB), batch 1 x 256, $THREADS threads"
out=$("$OCTO" train --base "$MODEL" --data "$T/data.jsonl" --lora-rank 64 --lora-alpha 128 --lora-targets all-linear \
      --seq-len 256 --batch 1 --epochs 1 --max-steps "$STEPS" --lr 1e-4 --skip-bad -t "$THREADS" -q \
      -o "$T/adapter.gguf" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E "trainable|tok/s|peak RSS" | sed 's/^/  /'
