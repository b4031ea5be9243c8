#!/bin/sh
# Run every test program in BUILD/tests and add up their counts.
# Usage: sh tests/run.sh [BUILD]   (from the repository root)
# Prints one closing line "N passed, N failed, N skipped"; exits 1 on any failure.
BUILD=${1:-build}
pass=0; fail=0; skip=0; bad=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    out=$("$t" 2>&1); rc=$?
    echo "$out" | grep -v '^[0-9]* passed, [0-9]* failed' | sed 's/^/   /'
    line=$(echo "$out" | grep '^[0-9]* passed, [0-9]* failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "   (crashed or printed no summary, exit $rc)"; fail=$((fail+1)); bad="$bad $name"; continue
    fi
    p=$(echo "$line" | sed 's/^\([0-9]*\) passed.*/\1/')
    f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
    s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    pass=$((pass+p)); fail=$((fail+f)); skip=$((skip+${s:-0}))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail=$((fail+1)); bad="$bad $name"; fi
    [ "$f" -ne 0 ] && bad="$bad $name"
done
# shell-level tests (CLI behaviour)
for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "== cli/$name"
    out=$(OCTO="$BUILD/octo" sh "$t" 2>&1); rc=$?
    echo "$out" | sed 's/^/   /'
    if [ $rc -eq 0 ]; then pass=$((pass+1)); elif [ $rc -eq 77 ]; then skip=$((skip+1)); else fail=$((fail+1)); bad="$bad cli/$name"; fi
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
