#!/bin/sh
# No test, and nothing relay writes, may depend on today's date, the time
# of day, the time zone, the host name or the locale. This test moves the
# clock (libfaketime) to the days that broke tests elsewhere (the 1st, the
# 9th, the 10th, the 31st, a leap day, a year's turn in one zone but not in
# UTC) in zones west and east of UTC, on the hour, half and quarter hour,
# with another host name (a private UTS namespace) and another locale, and
# under each:
#   1. sendmail's own Date and Received fields say exactly the faked local
#      time, as date(1) prints it under the same clock and zone;
#   2. the unit tests that format and parse dates (header, injector,
#      bounce, mailq, queue ids, retry policy) pass;
#   3. mail_programs_test, real mail programs through relay to a sink,
#      passes whole.
. "$(dirname "$0")/lib.sh"
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed"; exit 77; }
BIN=$(cd "$BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
# libfaketime is preloaded; a sanitizer build wants its runtime first.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# A second locale, built privately (LOCPATH): day and month names differ
# from English, and the decimal separator is a comma.
LOC=
if command -v localedef >/dev/null && [ -e /usr/share/i18n/locales/de_DE ]; then
  mkdir -p "$T/locale"
  localedef -i de_DE -f UTF-8 "$T/locale/de_DE.UTF-8" 2>"$T/localedef.err" && LOC=de_DE.UTF-8
fi
[ -n "$LOC" ] || echo "note: no de_DE locale sources (package locales); every case runs in C.UTF-8"

# faked local time | zone | host name (- keeps this one) | locale
cat > "$T/cases" <<'EOF'
2027-01-01 00:30:00|America/New_York|-|C.UTF-8
2027-03-09 23:45:00|Asia/Kolkata|h|de
2027-03-10 07:00:00|Asia/Tokyo|a-very-long-host-name.in.a.deep.sub.domain.example|C.UTF-8
2027-10-31 20:30:00|America/St_Johns|-|de
2028-02-29 12:15:00|UTC|-|C.UTF-8
2027-07-01 00:15:00|Pacific/Chatham|x|de
EOF

# in_case WHEN TZ HOST LOCALE CMD...: CMD under that clock, zone, host
# name and locale. The clock runs on from WHEN; monotonic clocks stay real
# so that timeouts keep their length.
in_case() {
  when=$1; tz=$2; host=$3; loc=$4; shift 4
  [ "$loc" = de ] && loc=${LOC:-C.UTF-8}
  set -- env TZ="$tz" LC_ALL="$loc" LANG="$loc" LOCPATH="$T/locale" \
    faketime -m --exclude-monotonic "$when" "$@"
  if [ "$host" != - ] && [ "$(id -u)" = 0 ] && unshare --uts true 2>/dev/null; then
    unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
  else
    "$@"
  fi
}

cat >> "$CONF" <<CONF
log = $T/relay.log
CONF
# As root the spool is the relay user's (nobody here): sendmail makes
# none for root.
[ "$(id -u)" = 0 ] && relay_private_spool
while IFS='|' read -r when tz host loc <&3; do
  case "$when" in ''|'#'*) continue ;; esac
  label="$when $tz"
  # 1. sendmail completes Date and Received from the faked clock.
  clear_queue
  printf 'Subject: date\n\nbody\n' |
    in_case "$when" "$tz" "$host" "$loc" "$BIN/sendmail" -C "$CONF" -i someone@example.net 2>"$T/err" \
    && ok "$label: sendmail exit 0" || bad "$label: sendmail failed: $(cat "$T/err")"
  want=$(in_case "$when" "$tz" - C date '+%a, %-d %b %Y %H:%M')
  zone=$(in_case "$when" "$tz" - C date '+%z')
  f=$T/spool/queue/$(last_entry)
  date_hdr=$(tr -d '\r' < "$f" | sed -n 's/^Date: //p')
  case "$date_hdr" in
    "$want":[0-5][0-9]" $zone") ok "$label: Date: $date_hdr" ;;
    *) bad "$label: Date: '$date_hdr', want '$want:SS $zone'" ;;
  esac
  rcvd=$(tr -d '\r' < "$f" | sed -n '/^Received:/,/^[^ \t]/p' | tr -d '\n\t')
  case "$rcvd" in
    *"; $want":[0-5][0-9]" $zone"*) ok "$label: Received ends with the same date" ;;
    *) bad "$label: Received '$rcvd' lacks '; $want:SS $zone'" ;;
  esac

  # 2. The unit tests about dates and times, under the same clock.
  if [ -x "$BIN/relay_unit_tests" ]; then
    in_case "$when" "$tz" "$host" "$loc" "$BIN/relay_unit_tests" \
      --gtest_filter='Header.*:InjectTest.*:Bounce.*:Mailq.*:QueueId.*:QueueFile.*:RetryPolicy.*:DeliveryState.*:DeliveryTest.*' \
      < /dev/null > "$T/unit.out" 2>&1 \
      && ok "$label: date unit tests ($(grep -c '^\[       OK' "$T/unit.out") passed)" \
      || bad "$label: date unit tests: $(grep -E 'FAILED|Failure|ERROR' "$T/unit.out" | head -5)"
  fi

  # 3. Real mail programs through relay, checked at the smarthost.
  in_case "$when" "$tz" "$host" "$loc" env RELAY_SUMMARY= sh "$HERE/mail_programs_test.sh" < /dev/null > "$T/mp.out" 2>&1
  rc=$?
  tail -1 "$T/mp.out" | grep -q ' 0 failed$' && [ $rc = 0 ] \
    && ok "$label (host ${host}, ${loc}): mail_programs_test: $(tail -1 "$T/mp.out")" \
    || bad "$label (host ${host}, ${loc}): mail_programs_test exit $rc: $(grep -E '^(FAIL|SKIP)' "$T/mp.out" | head -5)"
done 3< "$T/cases"
finish
