#!/bin/sh
# Training throughput: `octo train` against PyTorch on the CPU, same model
# shape, data shape and threads. Full fine-tuning (AdamW) of the planner-sized
# llama (6 layers, n_embd 384, 6 heads, n_ff 1024, Llama 2 vocabulary of
# 32000, untied output) on batches of 4 x 256 tokens of plain text.
# Prints tokens/s and MFU (6 x params x tokens/s over the ~570 GFLOP/s F32
# peak of the 2-core reference machine) for both, and the ratio.
#
# Usage: sh bench/train.sh [BUILD]   (OCTO_BENCH_THREADS, OCTO_TRAIN_STEPS)
set -eu
BUILD=${1:-build}
OCTO=$BUILD/octo
DIR=${OCTO_BENCH_DIR:-bench/models}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
THREADS=${OCTO_BENCH_THREADS:-2}
STEPS=${OCTO_TRAIN_STEPS:-8}
if [ ! -f "$VOCAB" ]; then
    echo "bench/train.sh: $VOCAB not found (set OCTO_SHARED)"; exit 1
fi
mkdir -p "$DIR"
MODEL=$DIR/planner-F32.gguf
[ -f "$MODEL" ] || "$OCTO" model init --arch llama --n-embd 384 --n-layer 6 --n-head 6 --n-head-kv 6 \
    --n-ff 1024 --vocab-from "$VOCAB" --seed 1 -o "$MODEL"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# enough text for STEPS batches of 4 x 256 tokens (words drawn by a fixed LCG)
awk -v n=$((STEPS * 1024 + 2048)) 'BEGIN {
    split("the a slides projector open close send email meeting calendar lights music play call " \
          "find file report budget weather tomorrow morning remind team schedule note share print", w, " ");
    s = 1; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648;
        printf "%s%s", w[int(s / 65536) % 28 + 1], (i % 16 == 15) ? "\n" : " " } }' >"$T/corpus.txt"

echo "training throughput: full fine-tuning, planner-sized llama (6 x 384, vocab 32000), batch 4 x 256, $THREADS threads"
out=$("$OCTO" train --base "$MODEL" --text "$T/corpus.txt" --full --seq-len 256 --batch 4 --epochs 1 \
      --max-steps "$STEPS" -t "$THREADS" -q -o "$T/out.gguf" 2>&1) || { echo "$out"; exit 1; }
line=$(echo "$out" | grep "tok/s, MFU")
echo "  octo:    $line"
octo_tok=$(echo "$line" | sed 's/.*: \([0-9.]*\) tok\/s.*/\1/')

PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c "import torch" >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    echo "  pytorch: not installed (python3-torch); no comparison"; exit 0
fi
pt=$("$PY" bench/train_torch.py --threads "$THREADS" --steps "$STEPS" --warmup 2)
echo "  $pt"
pt_tok=$(echo "$pt" | sed 's/.*: \([0-9.]*\) tok\/s.*/\1/')
awk -v a="$octo_tok" -v b="$pt_tok" 'BEGIN { printf "  octo / pytorch: %.2fx\n", a / b }'
