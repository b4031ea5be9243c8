#!/bin/sh
# CLI behaviour: help texts, clear one-line errors with non-zero exits on bad
# input, and a model made, quantized, inspected, run and benchmarked end to end.
# Run by tests/run.sh with OCTO set to the binary; exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fail=1; }

# every subcommand has --help and exits 0 with it
for c in generate tokenize info logits bench model quantize; do
    if "$OCTO" $c --help >"$T/h" 2>&1 && grep -q "usage: octo $c" "$T/h"; then ok "$c --help"; else bad "$c --help"; fi
done
"$OCTO" --help | grep -q generate && ok "octo --help" || bad "octo --help"

# errors: one line on stderr naming the problem, non-zero exit
expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    lines=$(wc -l <"$T/err")
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$lines" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}
expect_err "missing model file"  "no-such.gguf: cannot open" "$OCTO" info -m "$T/no-such.gguf"
printf 'GGUF\003\000\000\000' >"$T/trunc.gguf"
expect_err "truncated model"     "trunc.gguf: truncated"     "$OCTO" generate -m "$T/trunc.gguf" -p hi
printf 'not a model at all' >"$T/junk.gguf"
expect_err "not GGUF"            "not a GGUF file"           "$OCTO" tokenize -m "$T/junk.gguf" hi
expect_err "bad integer flag"    "expected an integer"       "$OCTO" generate -m x -n abc -p hi
expect_err "unknown flag"        "unknown argument"          "$OCTO" bench --frobnicate
expect_err "bad quant type"      "is not one of"             "$OCTO" quantize "$T/junk.gguf" "$T/o.gguf" Q3_X
expect_err "unknown command"     "unknown command"           "$OCTO" frobnicate

if [ ! -f "$VOCAB" ]; then echo "skip: $VOCAB absent (the rest needs ../shared)"; exit $fail; fi

# make, quantize, inspect, run
"$OCTO" model init --arch llama --n-embd 64 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 128 \
    --vocab-from "$VOCAB" --seed 7 -o "$T/m.gguf" && ok "model init" || bad "model init"
"$OCTO" quantize "$T/m.gguf" "$T/m8.gguf" Q8_0 && ok "quantize Q8_0" || bad "quantize Q8_0"
# init --type quantizes each weight as it is drawn: the same bytes as init, then quantize
for q in Q8_0 Q4_0; do
    "$OCTO" quantize "$T/m.gguf" "$T/mq.gguf" $q >/dev/null &&
    "$OCTO" model init --arch llama --n-embd 64 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 128 \
        --vocab-from "$VOCAB" --seed 7 --type $q -o "$T/mi.gguf" &&
    cmp -s "$T/mq.gguf" "$T/mi.gguf" && ok "model init --type $q = init + quantize" || bad "model init --type $q differs"
    rm -f "$T/mq.gguf" "$T/mi.gguf"
done
expect_err "init: bad type" "is not one of" "$OCTO" model init --arch llama --n-embd 64 --n-layer 1 --n-head 4 \
    --n-ff 128 --vocab-from "$VOCAB" --type Q3_X -o "$T/bad.gguf"
[ ! -e "$T/bad.gguf" ] && ok "init: nothing written on error" || bad "init wrote a file on error"
"$OCTO" info -m "$T/m8.gguf" >"$T/info" 2>&1
grep -q "architecture: llama" "$T/info" && grep -q "blk.0.attn_q.weight *Q8_0" "$T/info" && ok "info" || bad "info"
[ -z "$(ls "$T" | grep tmp)" ] && ok "no temp files left" || bad "temp files left: $(ls "$T")"
ids=$("$OCTO" tokenize -m "$VOCAB" "Hello world")
[ "$ids" = "1 15043 3186" ] && ok "tokenize" || bad "tokenize: $ids"
ids=$("$OCTO" tokenize -m "$VOCAB" --no-bos "Hello world")
[ "$ids" = "15043 3186" ] && ok "tokenize --no-bos" || bad "tokenize --no-bos: $ids"
a=$("$OCTO" generate -m "$T/m8.gguf" -p "Hello" -n 8 --greedy -q -t 2)
b=$("$OCTO" generate -m "$T/m8.gguf" -p "Hello" -n 8 --greedy -q -t 1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "greedy generate is deterministic across thread counts" || bad "generate: '$a' vs '$b'"
a=$("$OCTO" generate -m "$T/m.gguf" -p "Hello" -n 12 --temp 0.9 --seed 5 -q)
b=$("$OCTO" generate -m "$T/m.gguf" -p "Hello" -n 12 --temp 0.9 --seed 5 -q)
[ "$a" = "$b" ] && ok "sampling with a seed is reproducible" || bad "seeded sampling differs"
printf 'Hello world\nsecond\\nline\n' >"$T/p.txt"
"$OCTO" logits -m "$T/m8.gguf" --prompts "$T/p.txt" --greedy 3 >"$T/l.json" &&
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['cases']; assert len(c)==2 and c[1]['prompt']=='second\nline' and len(c[0]['greedy'])==3 and len(c[0]['positions'][0]['top'])==10" "$T/l.json" \
  && ok "logits JSON" || bad "logits JSON"
"$OCTO" bench -m "$T/m8.gguf" -p 8 -n 4 -r 1 --json >"$T/b.json" &&
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['pp_tok_s']>0 and d['tg_tok_s']>0" "$T/b.json" \
  && ok "bench --json" || bad "bench --json"
exit $fail
