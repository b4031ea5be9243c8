#!/bin/sh
# `octo functions call`: a handler run from the command line receives hostile
# argument values as inert data (the canary a shell would create is never
# created), failures and timeouts exit non-zero with a one-line reason.
set -u
OCTO=${OCTO:-build/octo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
C="$T/canary"

cat >"$T/set.json" <<EOF2
{"name": "h", "functions": [
 {"name": "echo", "parameters": {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"]},
  "handler": {"exec": ["printf", "%s", "{v}"]}},
 {"name": "shell_arg", "parameters": {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"]},
  "handler": {"exec": ["sh", "-c", "printf '%s' \"\$1\" > $T/got", "sh", "{v}"]}},
 {"name": "fails", "handler": {"exec": ["sh", "-c", "echo no such contact >&2; exit 4"]}},
 {"name": "hangs", "handler": {"exec": ["sleep", "100"], "timeout_ms": 300}}]}
EOF2

for v in "; touch $C" "\$(touch $C)" "\`touch $C\`" "x' ; touch $C ; '" "a\" && touch $C; \"" "| touch $C" "> $C"; do
    json=$(python3 -c 'import json,sys; print(json.dumps({"v": sys.argv[1]}))' "$v" 2>/dev/null) ||
        json=$(printf '{"v": "%s"}' "$(printf '%s' "$v" | sed 's/\\/\\\\/g; s/"/\\"/g')")
    out=$("$OCTO" functions call "$T/set.json" echo "$json")
    [ "$out" = "$v" ] && ok "echo: $v" || bad "echo: $v -> $out"
    "$OCTO" functions call "$T/set.json" shell_arg "$json" >/dev/null
    [ "$(cat "$T/got")" = "$v" ] && ok "sh \$1: $v" || bad "sh \$1: $v -> $(cat "$T/got")"
done
[ ! -e "$C" ] && ok "the canary was never created" || bad "the canary exists: a value ran as a command"

"$OCTO" functions call "$T/set.json" fails >"$T/out" 2>"$T/err"; rc=$?
[ $rc -ne 0 ] && grep -q "fails: exit status 4: no such contact" "$T/err" && ok "non-zero exit is a failure" ||
    bad "fails: rc=$rc $(cat "$T/err")"
start=$(date +%s)
"$OCTO" functions call "$T/set.json" hangs >"$T/out" 2>"$T/err"; rc=$?
end=$(date +%s)
[ $rc -ne 0 ] && grep -q "timed out after 300 ms" "$T/err" && [ $((end - start)) -lt 5 ] && ok "timeout" ||
    bad "timeout: rc=$rc $(cat "$T/err")"
"$OCTO" functions call "$T/set.json" echo '{"v": 5}' >"$T/out" 2>"$T/err"
[ $? -ne 0 ] && grep -q 'argument "v": expected string, got number' "$T/err" && ok "schema checked before running" ||
    bad "schema: $(cat "$T/err")"
"$OCTO" functions call "$T/set.json" nope >"$T/out" 2>"$T/err"
[ $? -ne 0 ] && grep -q 'h has no function "nope"' "$T/err" && ok "unknown function" || bad "unknown function"
exit $fail
