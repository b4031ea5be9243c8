#!/usr/bin/env bash
# make_corpus.sh - build the base model's plain-English pretraining corpus.
#
# Installs the Debian text packages it reads when they are missing, makes
# generated requests with `octo data gen` (training phrasings only: the
# held-out phrasings of the test sets never appear), then runs
# make_corpus.py, which cleans, dedupes and shuffles everything with a seed
# and writes OUT/corpus.txt, OUT/sources/*.txt and OUT/manifest.json.
#
# usage: models/corpus/make_corpus.sh [OUT_DIR]          (default models/corpus/out)
# env:   OCTO=build/octo  OCTO_SHARED=../shared  SEED=1
#        GEN_N=3000 (generated records per function set; 0: none)
#        SOURCES=gcide,wordnet,fortunes,docs,requests,generated
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
OCTO=${OCTO:-$root/build/octo}
OCTO_SHARED=${OCTO_SHARED:-$root/../shared}
SEED=${SEED:-1}
GEN_N=${GEN_N:-3000}
SOURCES=${SOURCES:-gcide,wordnet,fortunes,docs,requests,generated}
SETS="android dailylife ecommerce travel video_streaming"

# Debian packages holding the text the asked sources read (docs: the English
# word list of its prose test); installed only when missing
pkgs=""
[[ ",$SOURCES," == *,gcide,* || ",$SOURCES," == *,docs,* ]] && pkgs+=" dict-gcide"
[[ ",$SOURCES," == *,wordnet,* || ",$SOURCES," == *,docs,* ]] && pkgs+=" wordnet-base"
[[ ",$SOURCES," == *,fortunes,* ]] && pkgs+=" fortunes fortunes-min"
need=()
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "make_corpus: installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

mkdir -p "$out"
gen=()
if [[ ",$SOURCES," == *,generated,* ]] && [ "$GEN_N" -gt 0 ]; then
    [ -x "$OCTO" ] || { echo "make_corpus: $OCTO not built (make, or set OCTO=)" >&2; exit 1; }
    mkdir -p "$out/generated"
    i=0
    for s in $SETS; do
        # seeds 9000+: apart from the fine-tuning (1xx) and test (2xx) seeds of train_defaults.sh
        "$OCTO" data gen --functions "$root/functions/$s.json" --holdout train --n "$GEN_N" \
            --seed $((9000 + SEED * 10 + i)) -o "$out/generated/$s.jsonl" >&2
        gen+=("$out/generated/$s.jsonl")
        i=$((i + 1))
    done
fi

python3 "$here/make_corpus.py" -o "$out" --shared "$OCTO_SHARED" --seed "$SEED" --sources "$SOURCES" \
    --generated "${gen[@]}"
