#!/bin/sh
# Speed benchmark: the reference shapes against llama.cpp's figures
# on this machine type (2 cores, AVX-512). Creates the models on first use
# (random weights, Llama 2 vocabulary) under $OCTO_BENCH_DIR (default
# bench/models, ignored by git), then runs `octo bench -t 2 -p 64 -n 32`.
#
# Usage: sh bench/run.sh [BUILD] [tiny|tinyllama|train|all]
set -eu
BUILD=${1:-build}
WHICH=${2:-all}
OCTO=$BUILD/octo
DIR=${OCTO_BENCH_DIR:-bench/models}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
THREADS=${OCTO_BENCH_THREADS:-2}
if [ ! -f "$VOCAB" ]; then
    echo "bench: $VOCAB not found (set OCTO_SHARED)"; exit 1
fi
mkdir -p "$DIR"

# name arch embd layers heads kv_heads ff
make_model() {
    out=$DIR/$1-F32.gguf
    [ -f "$out" ] || "$OCTO" model init --arch "$2" --n-embd "$3" --n-layer "$4" --n-head "$5" \
        --n-head-kv "$6" --n-ff "$7" --vocab-from "$VOCAB" --seed 1 -o "$out"
}

quant() { # name type
    out=$DIR/$1-$2.gguf
    [ -f "$out" ] || "$OCTO" quantize "$DIR/$1-F32.gguf" "$out" "$2"
}

# model type llama.cpp-pp llama.cpp-tg
run() {
    f=$DIR/$1-$2.gguf
    json=$("$OCTO" bench -m "$f" -t "$THREADS" -p 64 -n 32 -r 3 --json)
    pp=$(echo "$json" | sed 's/.*"pp_tok_s": \([0-9.]*\).*/\1/')
    tg=$(echo "$json" | sed 's/.*"tg_tok_s": \([0-9.]*\).*/\1/')
    rss=$(echo "$json" | sed 's/.*"max_rss_mb": \([0-9.]*\).*/\1/')
    gbs=$(echo "$json" | sed 's/.*"tg_weight_gb_s": \([0-9.]*\).*/\1/')
    size=$(stat -c %s "$f")
    awk -v m="$1" -v t="$2" -v pp="$pp" -v tg="$tg" -v lpp="$3" -v ltg="$4" -v size="$size" -v rss="$rss" -v gbs="$gbs" 'BEGIN {
        rp = (lpp == "-") ? "-" : sprintf("%.2fx", pp / lpp);
        rt = (ltg == "-") ? "-" : sprintf("%.2fx", tg / ltg);
        printf "| %-10s | %-5s | %8.1f MiB | %8.1f | %5s | %8.1f | %5s | %6.1f GB/s | %7.1f MiB |\n",
               m, t, size / 1048576, pp, rp, tg, rt, gbs, rss }'
}

if [ -x "$BUILD/membw" ]; then
    echo "machine limits (bench/membw.c):"; "$BUILD/membw" "$THREADS" | sed 's/^/  /'; echo
fi
echo "| model      | type  |        size |   pp64 t/s | vs llama.cpp | tg32 t/s | vs llama.cpp | weights read | max RSS |"
echo "| ---        | ---   |        ---: |       ---: | ---: |     ---: | ---: |        ---: |    ---: |"
if [ "$WHICH" = all ] || [ "$WHICH" = tiny ]; then
    make_model planner llama 384 6 6 6 1024
    quant planner Q8_0
    run planner F32 - 245
    run planner Q8_0 - 671
fi
if [ "$WHICH" = all ] || [ "$WHICH" = tinyllama ]; then
    make_model tinyllama llama 2048 22 32 4 5632
    for t in Q4_0 Q8_0 F16; do quant tinyllama $t; done
    run tinyllama Q4_0 96 42
    run tinyllama Q8_0 95 23
    run tinyllama F16 83 14
fi
echo "(weights read: weight bytes a decoded token reads x tg tok/s, the bandwidth the decode loop sustains;"
echo " this machine reads about 55 GB/s from DRAM)"
if [ "$WHICH" = all ] || [ "$WHICH" = train ]; then echo; sh bench/train.sh "$BUILD"; fi
