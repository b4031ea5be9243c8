#!/bin/sh
# `octo lora` and --lora end to end: a PEFT directory written here by hand
# (as Hugging Face PEFT lays it out, no octo metadata) is converted to a GGUF
# adapter and back (tensors identical), applied unmerged with --lora, and
# merged; the merged model's logits equal the unmerged ones, --lora-scaled 0
# equals the base, and adapters for the wrong model are refused.
# Run by tests/run.sh with OCTO set to the binary; exit 77 = skipped.
set -u
OCTO=${OCTO:-build/octo}
SHARED=${OCTO_SHARED:-../shared}
VOCAB=$SHARED/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
[ -f "$VOCAB" ] || { echo "skip: $VOCAB absent"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 absent"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fail=1; }
expect_err() { # name expected-fragment cmd...
    name=$1; frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$frag" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}

for c in "lora" "lora merge"; do
    if "$OCTO" $c --help >"$T/h" 2>&1 && grep -q "usage: octo $c" "$T/h"; then ok "$c --help"; else bad "$c --help"; fi
done
"$OCTO" generate --help | grep -q -- "--lora-scaled" && ok "generate --help lists --lora" || bad "generate --help"
"$OCTO" logits --help | grep -q -- "--lora " && ok "logits --help lists --lora" || bad "logits --help"

"$OCTO" model init --arch llama --n-embd 64 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 96 \
    --vocab-from "$VOCAB" --seed 3 -o "$T/base.gguf" || { bad "model init"; exit 1; }
"$OCTO" model init --arch qwen2 --n-embd 64 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 96 \
    --vocab-from "$VOCAB" --seed 3 -o "$T/qwen.gguf" || { bad "model init qwen2"; exit 1; }

# A PEFT adapter as Hugging Face writes it: torch shapes, F32, no octo metadata.
python3 - "$T/peft" <<'PY' || { bad "write PEFT"; exit 1; }
import json, os, random, struct, sys
d = sys.argv[1]; os.makedirs(d)
random.seed(1)
r, emb, ff, kv = 4, 64, 96, 32
mods = {"self_attn.q_proj": (emb, emb), "self_attn.k_proj": (kv, emb), "self_attn.v_proj": (kv, emb),
        "self_attn.o_proj": (emb, emb), "mlp.gate_proj": (ff, emb), "mlp.up_proj": (ff, emb), "mlp.down_proj": (emb, ff)}
tensors = []
for L in range(2):
    for m, (out, inp) in mods.items():
        base = f"base_model.model.model.layers.{L}.{m}"
        tensors.append((base + ".lora_A.weight", [r, inp]))
        tensors.append((base + ".lora_B.weight", [out, r]))
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for name, shape in tensors:
    n = shape[0] * shape[1]
    blob = struct.pack(f"<{n}f", *[random.gauss(0, 0.3) for _ in range(n)])
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(blob)]}
    blobs.append(blob); off += len(blob)
h = json.dumps(header).encode(); h += b" " * (-len(h) % 8)
with open(os.path.join(d, "adapter_model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": 8, "lora_dropout": 0.05,
           "bias": "none", "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
           "base_model_name_or_path": "tiny"}, open(os.path.join(d, "adapter_config.json"), "w"))
PY
ok "PEFT directory written"

expect_err "PEFT without the base: architecture unknown" "architecture" "$OCTO" lora convert "$T/peft" "$T/x.gguf"
"$OCTO" lora convert "$T/peft" "$T/a.gguf" --base "$T/base.gguf" 2>/dev/null && ok "convert PEFT -> GGUF" || bad "convert PEFT -> GGUF"
"$OCTO" lora info "$T/a.gguf" >"$T/info" && grep -q "architecture: llama" "$T/info" && grep -q "tensors: 14" "$T/info" &&
    grep -q "blk.1.ffn_down.weight *64 *96 *4 *2" "$T/info" && ok "lora info" || bad "lora info: $(cat "$T/info")"
"$OCTO" lora convert "$T/a.gguf" "$T/peft2" --base "$T/base.gguf" --base-name tiny 2>/dev/null && ok "convert GGUF -> PEFT" || bad "convert GGUF -> PEFT"
python3 - "$T/peft" "$T/peft2" <<'PY' && ok "PEFT -> GGUF -> PEFT keeps every tensor bit for bit" || bad "PEFT round trip differs"
import json, struct, sys
def load(d):
    b = open(d + "/adapter_model.safetensors", "rb").read()
    n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); data = b[8 + n:]
    return {k: (v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in h.items() if k != "__metadata__"}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a)[:3], sorted(b)[:3])
for k in a: assert a[k] == b[k], k
c = json.load(open(sys.argv[2] + "/adapter_config.json"))
assert c["peft_type"] == "LORA" and c["r"] == 4 and c["lora_alpha"] == 8 and c["base_model_name_or_path"] == "tiny"
assert sorted(c["target_modules"]) == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
PY

printf 'Hello world\nThe projector is on\n' >"$T/p.txt"
"$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 >"$T/base.json" || bad "logits base"
"$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 --lora-scaled "$T/a.gguf" 0 >"$T/zero.json" &&
    cmp -s "$T/base.json" "$T/zero.json" && ok "--lora-scaled 0 equals the base" || bad "--lora-scaled 0"
"$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 --lora "$T/a.gguf" >"$T/un.json" || bad "logits --lora"
"$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 --lora "$T/peft" >"$T/unp.json" &&
    cmp -s "$T/un.json" "$T/unp.json" && ok "--lora with the PEFT directory equals the GGUF adapter" || bad "--lora PEFT dir"
"$OCTO" lora merge --base "$T/base.gguf" "$T/a.gguf" -o "$T/merged.gguf" 2>/dev/null && ok "lora merge" || bad "lora merge"
"$OCTO" logits -m "$T/merged.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 >"$T/merged.json" || bad "logits merged"
python3 - "$T/base.json" "$T/un.json" "$T/merged.json" <<'PY' && ok "merged logits = unmerged logits (adapter effect is real)" || bad "merged vs unmerged"
import json, sys
base, un, mg = (json.load(open(p)) for p in sys.argv[1:4])
eff = err = 0.0
for cb, cu, cm in zip(base["cases"], un["cases"], mg["cases"]):
    for pb, pu, pm in zip(cb["positions"], cu["positions"], cm["positions"]):
        eff = max(eff, abs(pb["logsumexp"] - pu["logsumexp"]), abs(pb["top"][0][1] - pu["top"][0][1]))
        err = max(err, abs(pu["logsumexp"] - pm["logsumexp"]))
        for (iu, lu), (im, lm) in zip(pu["top"], pm["top"]):
            err = max(err, abs(lu - lm))
print(f"     adapter moves the logits by up to {eff:.4f}; merged vs unmerged differ by {err:.2e}")
assert eff > 1e-3 and err < 1e-4
PY
"$OCTO" generate -m "$T/base.gguf" -p Hello -n 6 --greedy -q -t 2 --lora "$T/a.gguf" --lora-scaled "$T/a.gguf" -0.5 >"$T/g1" &&
"$OCTO" generate -m "$T/base.gguf" -p Hello -n 6 --greedy -q -t 1 --lora-scaled "$T/a.gguf" 0.5 >"$T/g2" &&
    cmp -s "$T/g1" "$T/g2" && ok "two adapters add up (1 - 0.5 = 0.5), any thread count" || bad "generate with two adapters"
for m in ties dare; do
    "$OCTO" lora merge --base "$T/base.gguf" "$T/a.gguf" "$T/peft" --weights 0.6,0.4 --method $m --density 0.3 \
        --seed 9 --type Q8_0 -o "$T/$m.gguf" 2>/dev/null && "$OCTO" generate -m "$T/$m.gguf" -p Hello -n 4 -q >/dev/null &&
        "$OCTO" info -m "$T/$m.gguf" | grep -q "blk.0.attn_q.weight *Q8_0" && ok "merge --method $m --type Q8_0" || bad "merge $m"
done
# An adapter trained by `octo train`: GGUF and PEFT outputs give the same
# logits, and merging it equals applying it.
if "$OCTO" train --help >/dev/null 2>&1; then
    for i in 1 2 3 4 5 6 7 8; do
        echo "{\"prompt\": \"turn on light $i\", \"completion\": \"light_on(room=$i)\"}"
    done >"$T/train.jsonl"
    if "$OCTO" train --base "$T/base.gguf" --data "$T/train.jsonl" --lora-rank 4 --lora-alpha 8 --lr 0.01 \
        --epochs 1 --batch 2 --seq-len 64 -t 2 --chat-template llama2 --peft-dir "$T/tpeft" -o "$T/trained.gguf" \
        >/dev/null 2>&1; then
        "$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 --lora "$T/trained.gguf" >"$T/t1.json" &&
        "$OCTO" logits -m "$T/base.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 --lora "$T/tpeft" >"$T/t2.json" &&
            cmp -s "$T/t1.json" "$T/t2.json" && ok "trained adapter: GGUF and PEFT give the same logits" ||
            bad "trained adapter GGUF vs PEFT"
        "$OCTO" lora merge --base "$T/base.gguf" "$T/trained.gguf" -o "$T/tmerged.gguf" 2>/dev/null &&
        "$OCTO" logits -m "$T/tmerged.gguf" --prompts "$T/p.txt" --greedy 4 -t 2 >"$T/t3.json" &&
        python3 - "$T/base.json" "$T/t1.json" "$T/t3.json" <<'PY' && ok "trained adapter: merged = unmerged" || bad "trained adapter merged vs unmerged"
import json, sys
base, un, mg = (json.load(open(p)) for p in sys.argv[1:4])
eff = err = 0.0
for cb, cu, cm in zip(base["cases"], un["cases"], mg["cases"]):
    for pb, pu, pm in zip(cb["positions"], cu["positions"], cm["positions"]):
        eff = max(eff, abs(pb["top"][0][1] - pu["top"][0][1]))
        err = max(err, abs(pu["logsumexp"] - pm["logsumexp"]), *(abs(a[1] - b[1]) for a, b in zip(pu["top"], pm["top"])))
print(f"     trained adapter moves the logits by up to {eff:.4f}; merged vs unmerged differ by {err:.2e}")
assert eff > 1e-4 and err < 1e-4
PY
    else
        bad "octo train --lora-rank 4 --peft-dir"
    fi
else
    echo "skip: octo train is not built (trained-adapter checks)"
fi

expect_err "wrong architecture refused" "architecture" "$OCTO" logits -m "$T/qwen.gguf" --prompts "$T/p.txt" --lora "$T/a.gguf"
expect_err "merge: --weights count" "2 numbers for 1 adapters" "$OCTO" lora merge --base "$T/base.gguf" "$T/a.gguf" --weights 1,2 -o "$T/w.gguf"
expect_err "merge: bad method" "expected linear, ties or dare" "$OCTO" lora merge --base "$T/base.gguf" "$T/a.gguf" --method avg -o "$T/w.gguf"
expect_err "--lora-scaled needs a number" "expected a number" "$OCTO" generate -m "$T/base.gguf" -p hi --lora-scaled "$T/a.gguf" x
printf 'junk' >"$T/junk.gguf"
expect_err "junk adapter" "junk.gguf" "$OCTO" generate -m "$T/base.gguf" -p hi --lora "$T/junk.gguf"
[ ! -e "$T/w.gguf" ] && [ -z "$(ls "$T" | grep tmp)" ] && ok "no partial files" || bad "partial files left: $(ls "$T")"
exit $fail
