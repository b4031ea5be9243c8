#!/bin/sh
# android.sh - the android function set's handlers for a Linux machine.
#
#   sh android.sh FUNCTION ARG...      (argv as functions/android.json passes it)
#
# Each function acts on this machine where Linux can (files under the state
# directory, find, pactl/amixer, brightnessctl, bluetoothctl, nmcli, a
# screenshot tool, a music player) and otherwise says plainly what it would
# do on a phone; it never claims an action that did not happen. Arguments
# arrive as separate argv elements and are only ever used as data: quoted,
# never evaluated, never part of a file name. Output: one line (the
# observation). Exit status 2: bad arguments; 1: the action failed.
#
# State: ${OCTO_STATE_DIR:-$HOME/.local/share/octo}/{alarms,timers,calendar,
# contacts,mail,sms,photos,screenshots,settings}, calls.log.
# On an Android phone with Termux and Termux:API, the termux-* programs do
# the real thing (camera, SMS, calls, torch, volume, brightness, Wi-Fi,
# battery, media player).
# Radios (Wi-Fi, Bluetooth, airplane mode) are switched for real only with
# OCTO_ALLOW_RADIO=1, so a server is not cut off by a test; network lookups
# (weather) only with OCTO_ONLINE=1.

set -u
STATE=${OCTO_STATE_DIR:-${HOME:-/tmp}/.local/share/octo}

# One line of output, whatever the values hold.
say() { printf '%s' "$*" | tr '\n\r\t' '   ' | cut -c1-2000; }
fail() { say "$*"; exit 1; }
bad() { say "bad arguments: $*"; exit 2; }
have() { command -v "$1" >/dev/null 2>&1; }
flat() { printf '%s' "$1" | tr '\n\r' '  '; } # a value safe inside one line of a file
newid() { printf '%s-%s' "$(date +%Y%m%d-%H%M%S)" "$$"; }
dir() { mkdir -p "$STATE/$1" || fail "cannot create $STATE/$1"; printf '%s' "$STATE/$1"; }

# Percent-encode a value for a URL (bytes outside [A-Za-z0-9._~-]).
urlenc() {
    printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' '\n\n' | while read -r h; do
        [ -n "$h" ] || continue
        case $h in
        3[0-9] | 4[1-9a-f] | 5[0-9a] | 6[1-9a-f] | 7[0-9a] | 2d | 2e | 5f | 7e) printf "\\$(printf '%03o' "0x$h")" ;;
        *) printf '%%%s' "$h" ;;
        esac
    done
}

is_int() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
check_percent() { is_int "$1" && [ "$1" -le 100 ] || bad "$2 must be an integer 0-100, got \"$1\""; }
check_date() {
    case $1 in [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]) ;; *) bad "$2 must be YYYY-MM-DD, got \"$1\"" ;; esac
}
check_time() {
    case $1 in [0-2][0-9]:[0-5][0-9]) ;; *) bad "$2 must be HH:MM, got \"$1\"" ;; esac
}
check_onoff() { case $1 in on | off) ;; *) bad "state must be on or off, got \"$1\"" ;; esac; }

# Record a setting we cannot change here; say so.
record_setting() { # name value what-it-would-do
    d=$(dir settings) || exit 1
    printf '%s\n' "$2" >"$d/$1" || fail "cannot write $d/$1"
    say "$3 (no control for it on this machine; recorded in $d/$1)"
}

# The newest file of a state folder, for "the photo" / "the screenshot".
newest() { ls -t "$STATE/$1" 2>/dev/null | head -n 1; }

resolve_attachment() { # value -> path or empty
    case $1 in
    '') return 0 ;;
    photo | picture | 'the photo') f=$(newest photos) && [ -n "$f" ] && printf '%s' "$STATE/photos/$f" ;;
    screenshot | 'the screenshot') f=$(newest screenshots) && [ -n "$f" ] && printf '%s' "$STATE/screenshots/$f" ;;
    *)
        if [ -f "$1" ]; then printf '%s' "$1"
        else find "${HOME:-/}" -maxdepth 6 -type f -iname "*$1*" ! -path '*/.*' 2>/dev/null | head -n 1
        fi ;;
    esac
}

fn=${1:-}
[ $# -gt 0 ] && shift
a1=${1:-} a2=${2:-} a3=${3:-} a4=${4:-}

case $fn in
take_a_photo)
    case $a1 in front | back) ;; *) bad "camera must be front or back, got \"$a1\"" ;; esac
    case $a2 in '' | 720p | 1080p | 4k) ;; *) bad "resolution must be 720p, 1080p or 4k" ;; esac
    res=${a2:-1080p}
    case $res in 720p) wh=1280x720 ;; 1080p) wh=1920x1080 ;; 4k) wh=3840x2160 ;; esac
    if have termux-camera-photo; then
        d=$(dir photos) || exit 1; f="$d/photo-$(newid).jpg"
        if [ "$a1" = front ]; then cam=1; else cam=0; fi
        termux-camera-photo -c "$cam" "$f" >/dev/null 2>&1 && [ -s "$f" ] && { say "photo saved: $f ($a1 camera)"; exit 0; }
        fail "termux-camera-photo did not deliver a photo"
    elif [ -e /dev/video0 ] && have fswebcam; then
        d=$(dir photos) || exit 1; f="$d/photo-$(newid).jpg"
        fswebcam -q --no-banner -r "$wh" "$f" >/dev/null 2>&1 && [ -s "$f" ] && { say "photo saved: $f ($a1 camera, $res)"; exit 0; }
        fail "the webcam did not deliver a photo"
    elif [ -e /dev/video0 ] && have ffmpeg; then
        d=$(dir photos) || exit 1; f="$d/photo-$(newid).jpg"
        ffmpeg -loglevel error -f v4l2 -i /dev/video0 -frames:v 1 "$f" </dev/null >/dev/null 2>&1 && [ -s "$f" ] &&
            { say "photo saved: $f ($a1 camera, $res)"; exit 0; }
        fail "the webcam did not deliver a photo"
    fi
    say "no camera on this machine: would take a photo with the $a1 camera at $res on the phone"
    ;;
take_screenshot)
    d=$(dir screenshots) || exit 1; f="$d/screenshot-$(newid).png"
    if [ -n "${WAYLAND_DISPLAY:-}" ] && have grim; then grim "$f" >/dev/null 2>&1
    elif [ -n "${DISPLAY:-}" ] && have scrot; then scrot "$f" >/dev/null 2>&1
    elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && have gnome-screenshot; then gnome-screenshot -f "$f" >/dev/null 2>&1
    elif [ -n "${DISPLAY:-}" ] && have import; then import -window root "$f" >/dev/null 2>&1
    fi
    if [ -s "$f" ]; then say "screenshot saved: $f"; else
        rm -f "$f"; say "no display or screenshot tool here: would take a screenshot on the phone"; fi
    ;;
get_trending_news)
    if [ -n "$a1" ]; then say "would show trending news about \"$(flat "$a1")\": https://news.google.com/search?q=$(urlenc "$a1")"
    else say "would show today's trending headlines: https://news.google.com/"; fi
    ;;
get_weather_forecast)
    [ -n "$a1" ] || bad "location is required"
    [ -z "$a2" ] || check_date "$a2" date
    when=${a2:-today}
    if [ "${OCTO_ONLINE:-0}" = 1 ] && have curl; then
        w=$(curl -fsS --max-time 8 "https://wttr.in/$(urlenc "$a1")?format=3" 2>/dev/null) && [ -n "$w" ] &&
            { say "weather now: $w (forecast for $when: https://wttr.in/$(urlenc "$a1"))"; exit 0; }
    fi
    say "offline: would fetch the forecast for $(flat "$a1") on $when: https://wttr.in/$(urlenc "$a1")"
    ;;
send_email)
    [ -n "$a1" ] && [ -n "$a2" ] || bad "to and subject are required"
    d=$(dir mail/outbox/new) || exit 1; mkdir -p "$STATE/mail/outbox/cur" "$STATE/mail/outbox/tmp"
    att=$(resolve_attachment "$a4")
    f="$d/$(newid).eml"
    {
        printf 'To: %s\nSubject: %s\nDate: %s\n' "$(flat "$a1")" "$(flat "$a2")" "$(date -R)"
        [ -n "$a4" ] && printf 'X-Attachment: %s\n' "$(flat "${att:-$a4 (not found)}")"
        printf '\n%s\n' "$a3"
    } >"$f" || fail "cannot write $f"
    note=""
    [ -n "$a4" ] && { if [ -n "$att" ]; then note=", attachment $att"; else note=", attachment \"$(flat "$a4")\" not found"; fi; }
    if [ "${OCTO_SEND_MAIL:-0}" = 1 ] && have sendmail && case $a1 in *@*) true ;; *) false ;; esac; then
        sendmail -t <"$f" && { say "email to $a1 sent (copy in $f)$note"; exit 0; }
        fail "sendmail failed; the email is in $f"
    fi
    say "email to $(flat "$a1") about \"$(flat "$a2")\" saved in the outbox $f, not sent (set OCTO_SEND_MAIL=1 with sendmail)$note"
    ;;
search_youtube_videos)
    [ -n "$a1" ] || bad "query is required"
    say "would search YouTube for \"$(flat "$a1")\": https://www.youtube.com/results?search_query=$(urlenc "$a1")"
    ;;
create_contact)
    [ -n "$a1" ] && [ -n "$a2" ] || bad "name and phone_number are required"
    d=$(dir contacts) || exit 1; f="$d/$(newid).vcf"
    {
        printf 'BEGIN:VCARD\nVERSION:3.0\nFN:%s\nTEL:%s\n' "$(flat "$a1")" "$(flat "$a2")"
        [ -n "$a3" ] && printf 'EMAIL:%s\n' "$(flat "$a3")"
        printf 'END:VCARD\n'
    } >"$f" || fail "cannot write $f"
    say "contact saved: $(flat "$a1"), $(flat "$a2") -> $f"
    ;;
set_timer)
    is_int "$a1" && [ "$a1" -ge 1 ] || bad "duration_seconds must be a positive integer, got \"$a1\""
    d=$(dir timers) || exit 1; f="$d/$(newid).timer"
    due=$(( $(date +%s) + a1 ))
    printf 'due=%s\nseconds=%s\nlabel=%s\n' "$due" "$a1" "$(flat "$a2")" >"$f" || fail "cannot write $f"
    say "timer set for $a1 seconds${a2:+ ($(flat "$a2"))}, due at $(date -d "@$due" +%H:%M:%S 2>/dev/null || echo "$due"): $f"
    ;;
set_alarm)
    check_time "$a1" time
    [ -z "$a3" ] || check_date "$a3" date
    d=$(dir alarms) || exit 1; f="$d/$(newid).alarm"
    when=${a3:+$a3 }$a1
    printf 'time=%s\ndate=%s\nlabel=%s\n' "$a1" "$a3" "$(flat "$a2")" >"$f" || fail "cannot write $f"
    say "alarm set for $when${a2:+ ($(flat "$a2"))}: $f"
    ;;
create_calendar_event)
    [ -n "$a1" ] || bad "title is required"
    check_date "$a2" date
    [ -z "$a3" ] || check_time "$a3" time
    d=$(dir calendar) || exit 1; id=$(newid); f="$d/$id.ics"
    ymd=$(printf '%s' "$a2" | tr -d -); hm=$(printf '%s' "${a3:-}" | tr -d :)
    {
        printf 'BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//octo//android.sh//EN\nBEGIN:VEVENT\nUID:%s@octo\n' "$id"
        if [ -n "$a3" ]; then printf 'DTSTART:%sT%s00\n' "$ymd" "$hm"; else printf 'DTSTART;VALUE=DATE:%s\n' "$ymd"; fi
        printf 'SUMMARY:%s\n' "$(flat "$a1")"
        [ -n "$a4" ] && printf 'LOCATION:%s\n' "$(flat "$a4")"
        printf 'END:VEVENT\nEND:VCALENDAR\n'
    } >"$f" || fail "cannot write $f"
    say "event \"$(flat "$a1")\" on $a2${a3:+ at $a3}${a4:+ at $(flat "$a4")} saved: $f"
    ;;
send_text_message)
    [ -n "$a1" ] && [ -n "$a2" ] || bad "to and message are required"
    d=$(dir sms/outbox) || exit 1; f="$d/$(newid).txt"
    printf 'to=%s\nmessage=%s\n' "$(flat "$a1")" "$(flat "$a2")" >"$f" || fail "cannot write $f"
    if have termux-sms-send && case $a1 in *[0-9]*) true ;; *) false ;; esac; then
        termux-sms-send -n "$a1" "$a2" >/dev/null 2>&1 && { say "SMS sent to $(flat "$a1") (copy in $f)"; exit 0; }
        fail "termux-sms-send failed; the message is in $f"
    fi
    say "no SMS on this machine: would text $(flat "$a1") on the phone; message saved in $f"
    ;;
make_phone_call)
    [ -n "$a1" ] || bad "to is required"
    mkdir -p "$STATE" && printf '%s call %s\n' "$(date -Iseconds)" "$(flat "$a1")" >>"$STATE/calls.log" || fail "cannot write $STATE/calls.log"
    if have termux-telephony-call && case $a1 in *[0-9]*) true ;; *) false ;; esac; then
        termux-telephony-call "$a1" >/dev/null 2>&1 && { say "calling $(flat "$a1")"; exit 0; }
        fail "termux-telephony-call failed"
    fi
    say "no telephony on this machine: would call $(flat "$a1") on the phone (logged in $STATE/calls.log)"
    ;;
set_brightness)
    check_percent "$a1" level
    if have termux-brightness && termux-brightness $((a1 * 255 / 100)) >/dev/null 2>&1; then say "brightness set to $a1%"
    elif have brightnessctl && brightnessctl set "$a1%" >/dev/null 2>&1; then say "brightness set to $a1%"
    else record_setting brightness "$a1" "would set the screen brightness to $a1%"; fi
    ;;
set_volume)
    check_percent "$a1" level
    stream=${a2:-media}
    case $stream in media | ring | alarm | notification) ;; *) bad "stream must be media, ring, alarm or notification" ;; esac
    if have termux-volume; then
        case $stream in media) ts=music ;; *) ts=$stream ;; esac
        # Android streams have 0-15 steps (music, ring, notification) or 0-7 (alarm)
        case $ts in alarm) max=7 ;; *) max=15 ;; esac
        termux-volume "$ts" $((a1 * max / 100)) >/dev/null 2>&1 && { say "$stream volume set to $a1%"; exit 0; }
    fi
    if [ "$stream" = media ] && have pactl && pactl set-sink-volume @DEFAULT_SINK@ "$a1%" >/dev/null 2>&1; then
        say "media volume set to $a1% (pactl)"
    elif [ "$stream" = media ] && have amixer && amixer -q sset Master "$a1%" >/dev/null 2>&1; then
        say "media volume set to $a1% (amixer)"
    else record_setting "volume-$stream" "$a1" "would set the $stream volume to $a1%"; fi
    ;;
toggle_bluetooth)
    check_onoff "$a1"
    if [ "${OCTO_ALLOW_RADIO:-0}" = 1 ] && have bluetoothctl && bluetoothctl power "$a1" >/dev/null 2>&1; then say "Bluetooth turned $a1"
    else record_setting bluetooth "$a1" "would turn Bluetooth $a1"; fi
    ;;
connect_to_bluetooth_device)
    [ -n "$a1" ] || bad "device_name is required"
    if [ "${OCTO_ALLOW_RADIO:-0}" = 1 ] && have bluetoothctl; then
        mac=$(bluetoothctl devices 2>/dev/null | grep -iF -- "$a1" | head -n 1 | cut -d' ' -f2)
        [ -n "$mac" ] || fail "no paired Bluetooth device named \"$(flat "$a1")\""
        bluetoothctl connect "$mac" >/dev/null 2>&1 && { say "connected to $(flat "$a1") ($mac)"; exit 0; }
        fail "could not connect to $(flat "$a1") ($mac)"
    fi
    say "would connect to the Bluetooth device \"$(flat "$a1")\" (no Bluetooth control here)"
    ;;
toggle_wifi)
    check_onoff "$a1"
    if [ "$a1" = on ]; then tf=true; else tf=false; fi
    if have termux-wifi-enable && termux-wifi-enable "$tf" >/dev/null 2>&1; then say "Wi-Fi turned $a1"
    elif [ "${OCTO_ALLOW_RADIO:-0}" = 1 ] && have nmcli && nmcli radio wifi "$a1" >/dev/null 2>&1; then say "Wi-Fi turned $a1"
    else record_setting wifi "$a1" "would turn Wi-Fi $a1"; fi
    ;;
set_airplane_mode)
    check_onoff "$a1"
    if [ "${OCTO_ALLOW_RADIO:-0}" = 1 ] && have rfkill; then
        if [ "$a1" = on ]; then rfkill block all; else rfkill unblock all; fi >/dev/null 2>&1 && { say "airplane mode $a1 (rfkill)"; exit 0; }
    fi
    record_setting airplane_mode "$a1" "would turn airplane mode $a1"
    ;;
set_do_not_disturb)
    check_onoff "$a1"
    record_setting do_not_disturb "$a1" "would turn do-not-disturb $a1"
    ;;
toggle_flashlight)
    check_onoff "$a1"
    if have termux-torch && termux-torch "$a1" >/dev/null 2>&1; then say "flashlight $a1"; exit 0; fi
    record_setting flashlight "$a1" "would turn the flashlight $a1"
    ;;
play_music)
    [ -n "$a1" ] || bad "song is required"
    f=$(find "${HOME:-/}/Music" "${HOME:-/}/storage/music" -maxdepth 4 -type f -iname "*$a1*" 2>/dev/null | head -n 1)
    if [ -n "$f" ] && have termux-media-player; then
        termux-media-player play "$f" >/dev/null 2>&1 && { say "playing $f"; exit 0; }
    fi
    if [ -n "$f" ]; then
        for p in mpv ffplay cvlc paplay; do
            if have "$p"; then
                case $p in
                ffplay) nohup ffplay -nodisp -autoexit -loglevel quiet "$f" >/dev/null 2>&1 & ;;
                mpv) nohup mpv --no-video --really-quiet "$f" >/dev/null 2>&1 & ;;
                *) nohup "$p" "$f" >/dev/null 2>&1 & ;;
                esac
                say "playing $f with $p"
                exit 0
            fi
        done
        say "found $f but no audio player is installed: would play it on the phone"
    else
        say "no file matching \"$(flat "$a1")\" under ~/Music: would play $(flat "$a1")${a2:+ by $(flat "$a2")} on the phone"
    fi
    ;;
get_directions)
    [ -n "$a1" ] || bad "destination is required"
    case $a3 in '' | driving | walking | transit | cycling) ;; *) bad "mode must be driving, walking, transit or cycling" ;; esac
    url="https://www.google.com/maps/dir/?api=1&destination=$(urlenc "$a1")"
    [ -n "$a2" ] && url="$url&origin=$(urlenc "$a2")"
    case $a3 in cycling) url="$url&travelmode=bicycling" ;; ?*) url="$url&travelmode=$a3" ;; esac
    say "would open the route to $(flat "$a1")${a2:+ from $(flat "$a2")}${a3:+ ($a3)}: $url"
    ;;
find_file)
    [ -n "$a1" ] || bad "name is required"
    hits=$(find "${HOME:-/}" -maxdepth 8 -type f -iname "*$a1*" ! -path '*/.*' 2>/dev/null | head -n 5)
    if [ -n "$hits" ]; then
        n=$(printf '%s\n' "$hits" | wc -l | tr -d ' ')
        say "found $n: $(printf '%s\n' "$hits" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
    else say "no file matching \"$(flat "$a1")\" under ${HOME:-/}"; fi
    ;;
open_app)
    [ -n "$a1" ] || bad "app_name is required"
    # Only well-known desktop programs, never an arbitrary command name.
    name=$(printf '%s' "$a1" | tr 'A-Z' 'a-z')
    case $name in
    chrome | browser) cands="google-chrome chromium firefox" ;;
    calculator) cands="gnome-calculator kcalc galculator" ;;
    camera) cands="cheese" ;;
    spotify) cands="spotify" ;;
    slack) cands="slack" ;;
    zoom) cands="zoom" ;;
    telegram) cands="telegram-desktop" ;;
    notes) cands="gnome-text-editor gedit" ;;
    clock) cands="gnome-clocks" ;;
    photos) cands="eog shotwell" ;;
    settings) cands="gnome-control-center" ;;
    calendar) cands="gnome-calendar" ;;
    *) cands="" ;;
    esac
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        for p in $cands; do
            if have "$p"; then nohup "$p" >/dev/null 2>&1 & say "started $p for $(flat "$a1") (pid $!)"; exit 0; fi
        done
    fi
    say "would open the $(flat "$a1") app on the phone (no such desktop app or display here)"
    ;;
get_battery_status)
    if have termux-battery-status; then
        b=$(termux-battery-status 2>/dev/null) && [ -n "$b" ] && { say "$b"; exit 0; }
    fi
    for b in /sys/class/power_supply/BAT*; do
        [ -r "$b/capacity" ] || continue
        say "battery $(cat "$b/capacity")%, $(cat "$b/status" 2>/dev/null | tr 'A-Z' 'a-z')"
        exit 0
    done
    say "no battery on this machine (mains powered): would report the phone's battery level"
    ;;
'' | -h | --help)
    say "usage: android.sh FUNCTION ARG... (functions of functions/android.json)"
    [ -n "$fn" ] || exit 2
    ;;
*)
    say "unknown function \"$(flat "$fn")\""
    exit 2
    ;;
esac
exit 0
