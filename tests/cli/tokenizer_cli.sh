#!/bin/sh
# `octo tokenizer train`: help, one-line errors, and a vocabulary learned from
# a file that `octo tokenize` reads back and `octo model init` builds on.
# Needs nothing outside the repository. Exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

"$OCTO" tokenizer --help | grep -q "usage: octo tokenizer train" && ok "tokenizer --help" || bad "tokenizer --help"
"$OCTO" tokenizer train --help | grep -q -- "--vocab-size" && ok "tokenizer train --help" || bad "tokenizer train --help"
"$OCTO" --help | grep -q tokenizer && ok "listed in octo --help" || bad "listed in octo --help"

i=0
while [ $i -lt 300 ]; do
    echo "open the calendar and send a message to bob about the plan for today, then call alice $i"
    i=$((i+1))
done >"$T/corpus.txt"

expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}
expect_err "vocab below 256"  "too small"            "$OCTO" tokenizer train --vocab-size 200 -o "$T/v.gguf" "$T/corpus.txt"
expect_err "missing file"     "no-such.txt: cannot open" "$OCTO" tokenizer train --vocab-size 400 -o "$T/v.gguf" "$T/no-such.txt"
expect_err "unknown pre"      "pre-tokenizer \"bogus\"" "$OCTO" tokenizer train --vocab-size 400 --pre bogus -o "$T/v.gguf" "$T/corpus.txt"
: >"$T/empty.txt"
expect_err "empty file"       "no text to learn from" "$OCTO" tokenizer train --vocab-size 400 -o "$T/v.gguf" "$T/empty.txt"
expect_err "no output"        "required"             "$OCTO" tokenizer train --vocab-size 400 "$T/corpus.txt"
expect_err "unknown subcommand" "unknown subcommand" "$OCTO" tokenizer frob
[ ! -e "$T/v.gguf" ] && ok "nothing written on error" || bad "nothing written on error"

if "$OCTO" tokenizer train --vocab-size 300 --special "<|endoftext|>,<|user|>,<|assistant|>,<|end|>" --user-special "<nexa_split>" \
        -o "$T/v.gguf" "$T/corpus.txt" 2>"$T/log"; then ok "train"; else bad "train ($(cat "$T/log"))"; fi
grep -q "300 tokens (5 special)" "$T/log" && ok "train summary" || bad "train summary: $(cat "$T/log")"
"$OCTO" tokenizer train --vocab-size 300 --special "<|endoftext|>,<|user|>,<|assistant|>,<|end|>" --user-special "<nexa_split>" \
        -o "$T/v2.gguf" "$T/corpus.txt" 2>/dev/null
cmp -s "$T/v.gguf" "$T/v2.gguf" && ok "deterministic" || bad "deterministic"

ids=$("$OCTO" tokenize -m "$T/v.gguf" --special "<|user|> the calendar<|end|><nexa_split>")
set -- $ids
[ "$1" = 296 ] && [ "$(eval echo \${$#})" = 299 ] && ok "tokenize: $ids" || bad "tokenize: $ids"
ids=$("$OCTO" tokenize -m "$T/v.gguf" "<|user|>x<nexa_split>")
set -- $ids
[ "$1" != 296 ] && [ "$(eval echo \${$#})" = 299 ] && ok "user-defined token without --special" || bad "user-defined: $ids"
"$OCTO" info "$T/v.gguf" 2>/dev/null | grep -q 'gpt2 (byte-level BPE), pre "qwen2", 300 tokens' && ok "info" || bad "info"

if "$OCTO" model init --arch llama --n-embd 32 --n-layer 1 --n-head 2 --n-ff 64 --vocab-from "$T/v.gguf" \
        -o "$T/m.gguf" 2>"$T/err"; then ok "model init --vocab-from"; else bad "model init ($(cat "$T/err"))"; fi
"$OCTO" generate -m "$T/m.gguf" -p "<|user|>open the calendar<|end|><|assistant|>" -n 4 -t 1 --seed 1 >/dev/null 2>"$T/err" \
    && ok "generate with the new vocabulary" || bad "generate ($(cat "$T/err"))"
exit $fail
