#!/bin/sh
# models/train_defaults.sh end to end at toy sizes, in seconds: corpus
# (generated requests only: no Debian packages, no ../shared), tokenizer,
# base model, pretraining, android planner and action models, quantization,
# scoring and the model card. Checks real outcomes: every file is there and
# loads, losses went down, the report scored every test record, the card
# carries the measured numbers, and a second run resumes without redoing
# (or changing) anything. Exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
case $OCTO in /*) ;; *) OCTO=$(pwd)/$OCTO ;; esac
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is needed"; exit 77; }
command -v bash >/dev/null 2>&1 || { echo "skip: bash is needed"; exit 77; }
[ -x models/train_defaults.sh ] || { echo "skip: run from the repository root"; exit 77; }

run() {
    MODE=quick OCTO=$OCTO WORK=$T/w DEST=$T/out DOMAINS=android THREADS=2 \
        CORPUS_SOURCES=generated CORPUS_GEN_N=60 VOCAB=512 N_EMBD=32 N_LAYER=1 N_HEAD=1 N_HEAD_KV=1 N_FF=64 \
        PRE_STEPS=12 PRE_SEQ=64 PRE_BATCH=4 N_GEN=60 N_DEV=8 N_TEST=5 FT_SEQ=256 FT_BATCH=4 \
        EVAL_FLAGS="--max-tokens 24" bash models/train_defaults.sh
}
if run >"$T/log1" 2>&1; then ok "train_defaults.sh quick, toy sizes"; else
    bad "train_defaults.sh failed:"; tail -20 "$T/log1"; exit 1
fi

for f in w/corpus/corpus.txt w/corpus/corpus_eval.txt w/corpus/manifest.json w/tokenizer.gguf w/base.gguf \
    out/android/planner.gguf out/android/action.gguf out/android/MODEL_CARD.md w/eval/android.test/report.json; do
    [ -s "$T/$f" ] && ok "$f written" || bad "$f missing"
done
for m in planner action; do
    "$OCTO" info -m "$T/out/android/$m.gguf" >"$T/info" 2>&1 && grep -q "architecture: llama" "$T/info" &&
        grep -q "Q8_0" "$T/info" && ok "$m.gguf loads: llama, Q8_0" || bad "$m.gguf: $(head -3 "$T/info")"
done
"$OCTO" tokenize -m "$T/out/android/action.gguf" --pieces "<fn_take_a_photo><nexa_end>" | grep -q "^[0-9]*:'<fn_take_a_photo>' [0-9]*:'<nexa_end>'$" &&
    ok "functional tokens are single tokens" || bad "functional tokens split"

python3 - "$T" <<'EOF' && ok "losses decreased; report and card hold the measured numbers" || fail=1
import json, sys
t = sys.argv[1]
def rows(p): return [json.loads(l) for l in open(p) if l.strip()]
bad = []
for name in ("pretrain", "android.planner", "android.action"):
    r = rows(f"{t}/w/logs/{name}.jsonl")
    if not r[-1]["loss"] < r[0]["loss"] - 0.1: bad.append(f"{name}: loss {r[0]['loss']} -> {r[-1]['loss']}")
rep = json.load(open(f"{t}/w/eval/android.test/report.json"))
if rep["overall"]["records"] != 5: bad.append(f"report: {rep['overall']['records']} records, expected 5")
card = open(f"{t}/out/android/MODEL_CARD.md").read()
acc = "%.1f%%" % (100 * rep["overall"]["exact_plan_accuracy"])
if f"| exact plan accuracy | {acc} |" not in card: bad.append("card lacks the report's accuracy " + acc)
last = rows(f"{t}/w/logs/android.planner.jsonl")[-1]["loss"]
if "%.3f" % last not in card: bad.append("card lacks the planner's last loss")
m = json.load(open(f"{t}/w/corpus/manifest.json"))
if m["sources"]["generated"]["documents"] < 250 or m["corpus"]["bytes"] <= 0: bad.append("manifest counts")
for b in bad: print("FAIL", b)
sys.exit(1 if bad else 0)
EOF

sha() { cat "$T/out/android/planner.gguf" "$T/out/android/action.gguf" "$T/w/base.gguf" | cksum; }
before=$(sha)
if run >"$T/log2" 2>&1 && ! grep -q "octo train " "$T/log2" && [ "$(sha)" = "$before" ]; then
    ok "a second run resumes: nothing retrained, files unchanged"
else
    bad "second run retrained or changed files"
fi
exit $fail
