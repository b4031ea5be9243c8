#!/bin/sh
# functions/handlers/android.sh run directly: every function of android.json
# with safe arguments, in a temporary OCTO_STATE_DIR and HOME, exits 0 with
# exactly one line; bad arguments exit 2; hostile values stay data.
set -u
H=functions/handlers/android.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OCTO_STATE_DIR="$T/state" HOME="$T/home"
unset OCTO_ALLOW_RADIO OCTO_ONLINE OCTO_SEND_MAIL DISPLAY WAYLAND_DISPLAY 2>/dev/null
mkdir -p "$HOME/Documents" && echo pdf >"$HOME/Documents/budget report.pdf"
fail=0
run() { # function args...
    out=$(sh "$H" "$@" 2>"$T/err"); rc=$?
    n=$(printf '%s\n' "$out" | wc -l)
    if [ $rc -eq 0 ] && [ -n "$out" ] && [ "$n" -eq 1 ]; then echo "ok   $1: $out"
    else echo "FAIL $1 (rc=$rc, $n lines): $out $(cat "$T/err")"; fail=1; fi
}
run take_a_photo front 1080p
run take_screenshot
run get_trending_news technology
run get_weather_forecast Paris 2026-03-03
run send_email boss "Q3 numbers" "see attached" "budget report"
run search_youtube_videos "how to tie a tie"
run create_contact "Anna Lee" "555-123-4567" "anna@example.com"
run set_timer 300 pasta
run set_alarm 07:30 gym ""
run create_calendar_event Dentist 2026-05-01 14:00 "City Hospital"
run send_text_message Mom "on my way"
run make_phone_call Mom
run set_brightness 40
run set_volume 30 media
run toggle_bluetooth on
run connect_to_bluetooth_device AirPods
run toggle_wifi off
run set_do_not_disturb on
run toggle_flashlight on
run set_airplane_mode off
run play_music Yesterday "The Beatles"
run get_directions "the airport" "" walking
run find_file "budget report"
run open_app Chrome
run get_battery_status
# every function of the set was run above
for f in $(python3 -c "import json; print(' '.join(f['name'] for f in json.load(open('functions/android.json'))['functions']))" 2>/dev/null); do
    grep -q "^run $f" "$0" || { echo "FAIL $f not exercised"; fail=1; }
done
# files really written
ls "$OCTO_STATE_DIR"/alarms/*.alarm "$OCTO_STATE_DIR"/calendar/*.ics "$OCTO_STATE_DIR"/contacts/*.vcf \
   "$OCTO_STATE_DIR"/mail/outbox/new/*.eml "$OCTO_STATE_DIR"/sms/outbox/*.txt >/dev/null 2>&1 &&
    echo "ok   state files written" || { echo "FAIL state files"; fail=1; }
grep -q "budget report.pdf" "$OCTO_STATE_DIR"/mail/outbox/new/*.eml && echo "ok   attachment resolved" || { echo "FAIL attachment"; fail=1; }
# bad arguments: exit 2
for bad in "set_brightness 101" "set_alarm 7pm" "toggle_wifi maybe" "nope"; do
    sh "$H" $bad >/dev/null 2>&1; rc=$?
    [ $rc -eq 2 ] && echo "ok   rejects: $bad" || { echo "FAIL accepts: $bad (rc=$rc)"; fail=1; }
done
# hostile values: inert
sh "$H" send_text_message "\$(touch $T/pwned)" "\`touch $T/pwned\`; touch $T/pwned" >/dev/null 2>&1
sh "$H" find_file "*; touch $T/pwned" >/dev/null 2>&1
[ ! -e "$T/pwned" ] && echo "ok   hostile values inert" || { echo "FAIL hostile value ran"; fail=1; }
# on a phone (Termux:API programs on PATH; stubs here that log their argv)
mkdir -p "$T/bin"
for p in termux-torch termux-volume termux-brightness termux-wifi-enable termux-sms-send termux-telephony-call; do
    printf '#!/bin/sh\nprintf "%%s|" "$(basename "$0")" "$@" >>"%s/termux.log"; echo >>"%s/termux.log"\n' "$T" "$T" >"$T/bin/$p"
    chmod +x "$T/bin/$p"
done
PATH="$T/bin:$PATH" sh "$H" toggle_flashlight on >/dev/null
PATH="$T/bin:$PATH" sh "$H" set_volume 60 ring >/dev/null
PATH="$T/bin:$PATH" sh "$H" set_brightness 100 >/dev/null
PATH="$T/bin:$PATH" sh "$H" send_text_message "+1 555 0100" "on my way; \$(reboot)" >/dev/null
PATH="$T/bin:$PATH" sh "$H" make_phone_call "555-0100" >/dev/null
expected='termux-torch|on|
termux-volume|ring|9|
termux-brightness|255|
termux-sms-send|-n|+1 555 0100|on my way; $(reboot)|
termux-telephony-call|555-0100|'
[ "$(cat "$T/termux.log" 2>/dev/null)" = "$expected" ] && echo "ok   termux programs called with the right argv" ||
    { echo "FAIL termux argv: $(cat "$T/termux.log" 2>/dev/null)"; fail=1; }
exit $fail
