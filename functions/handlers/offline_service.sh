#!/bin/sh
# offline_service.sh - handler for function sets whose service (a shop, a
# streaming service, a travel agency) is not connected to this machine.
#
#   sh offline_service.sh DOMAIN FUNCTION NAME VALUE [NAME VALUE ...]
#
# It appends the call as one JSON line to
# ${OCTO_STATE_DIR:-$HOME/.local/share/octo}/DOMAIN.log and says plainly that
# nothing was bought, booked or played. Values are data only: escaped into
# JSON, never evaluated. Empty values (optional arguments left out) are
# skipped. Output: one line; exit 2 on bad usage.

set -u
STATE=${OCTO_STATE_DIR:-${HOME:-/tmp}/.local/share/octo}

say() { printf '%s' "$*" | tr '\n\r\t' '   ' | cut -c1-2000; }

# A JSON string literal of $1 (control characters become spaces).
jstr() {
    printf '"'
    printf '%s' "$1" | tr '\n\r\t' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037'
    printf '"'
}

[ $# -ge 2 ] || { say "usage: offline_service.sh DOMAIN FUNCTION [NAME VALUE]..."; exit 2; }
domain=$1 fn=$2
shift 2
case $domain in *[!a-z_]* | '') say "bad domain name"; exit 2 ;; esac
case $fn in *[!a-z0-9_]* | '') say "bad function name"; exit 2 ;; esac
[ $(($# % 2)) -eq 0 ] || { say "arguments must come in NAME VALUE pairs"; exit 2; }

args="" shown=""
while [ $# -ge 2 ]; do
    if [ -n "$2" ]; then
        args="$args${args:+,}$(jstr "$1"):$(jstr "$2")"
        shown="$shown${shown:+, }$1=$(printf '%s' "$2" | tr '\n\r\t' '   ')"
    fi
    shift 2
done
mkdir -p "$STATE" || { say "cannot create $STATE"; exit 1; }
log="$STATE/$domain.log"
printf '{"time":"%s","function":"%s","arguments":{%s}}\n' "$(date -Iseconds)" "$fn" "$args" >>"$log" ||
    { say "cannot write $log"; exit 1; }
say "no $domain service is connected to this machine: $fn(${shown}) was not carried out; the request is logged in $log"
