#!/bin/sh
# scripts/deps, the first thing scripts/try and scripts/test run: exit 0
# when nothing is missing and when something is (and gets installed), and
# one line on standard error, naming what failed, on every failure path.
# Fake dpkg-query, apt-get, debconf-set-selections and id on PATH stand in
# for the machine's, so this test installs nothing and changes nothing; the
# policy-rc.d it writes is a private file (RELAY_DEPS_POLICY_RC). Last, the
# real scripts/deps runs on this machine for build and try.
. "$(dirname "$0")/lib.sh"
DEPS=$RELAY_SRC/scripts/deps
F=$T/fake
mkdir -p "$F/bin"
: > "$F/installed"
cat > "$F/bin/dpkg-query" <<FAKE
#!/bin/sh
# dpkg-query -W -f='\${Status}' PACKAGE
for p; do :; done
grep -qx "\$p" "$F/installed" && printf 'install ok installed' && exit 0
echo "dpkg-query: no packages found matching \$p" >&2; exit 1
FAKE
cat > "$F/bin/apt-get" <<FAKE
#!/bin/sh
echo "apt-get \$*" >> "$F/apt.log"
[ -x "$F/policy" ] && [ "\$("$F/policy")" = "" ] && [ "\$("$F/policy" >/dev/null; echo \$?)" = 101 ] &&
  echo "policy 101 while apt-get \$1" >> "$F/apt.log"
case "\$1" in
  update) exit \${FAKE_UPDATE_RC:-0} ;;
  install)
    [ "\${FAKE_INSTALL_RC:-0}" = 0 ] || { echo "E: Unable to locate package" >&2; exit \$FAKE_INSTALL_RC; }
    [ -n "\${FAKE_INSTALL_NOOP:-}" ] && exit 0
    for a; do case "\$a" in install|-*) ;; *) echo "\$a" >> "$F/installed" ;; esac; done ;;
esac
exit 0
FAKE
printf '#!/bin/sh\ncat > /dev/null\n' > "$F/bin/debconf-set-selections"
printf '#!/bin/sh\n[ "$1" = -u ] && echo "${FAKE_UID:-0}" && exit 0\nexec /usr/bin/id "$@"\n' > "$F/bin/id"
chmod 755 "$F"/bin/*

ALL="cmake g++ make pkg-config libssl-dev libc-ares-dev libsasl2-dev libcrypt-dev libgtest-dev libcurl4-openssl-dev nlohmann-json3-dev python3 python3-aiosmtpd util-linux"
# deps MODE: runs the script with the fakes; sets rc, and out/err files.
deps() {
  : > "$F/apt.log"
  PATH="$F/bin:$PATH" RELAY_DEPS_POLICY_RC="$F/policy" sh "$DEPS" "$@" > "$T/out" 2> "$T/err"
  rc=$?
}
one_line() { # DESCRIPTION PATTERN: exactly one line on stderr, matching
  n=$(wc -l < "$T/err")
  if [ "$n" = 1 ] && grep -q "^scripts/deps: .*$2" "$T/err"; then ok "$1: one line: $(cat "$T/err")"
  else bad "$1: want one line matching '$2' on stderr, got $n: $(cat "$T/err")"; fi
}

# 1. Nothing missing: exit 0 and silence, for every mode that needs no
# test peers (test lists more; see 2).
printf '%s\n' $ALL > "$F/installed"
for mode in build try; do
  deps $mode
  [ $rc = 0 ] && ok "deps $mode, nothing missing: exit 0" || bad "deps $mode, nothing missing: exit $rc: $(cat "$T/err")"
  [ ! -s "$T/out" ] && [ ! -s "$T/err" ] && [ ! -s "$F/apt.log" ] && ok "deps $mode, nothing missing: silent, no apt-get" \
    || bad "deps $mode, nothing missing: said '$(cat "$T/out" "$T/err")', apt: $(cat "$F/apt.log")"
done
deps
[ $rc = 0 ] && ok "deps with no mode (build): exit 0" || bad "deps with no mode: exit $rc"

# 2. Something missing: installed, exit 0, daemons kept from starting
# while apt-get runs, and the machine's policy-rc.d put back as it was.
for mode in build try; do
  printf '%s\n' $ALL | grep -v '^libc-ares-dev$' > "$F/installed"
  [ $mode = try ] && sed -i '/^python3-aiosmtpd$/d' "$F/installed"
  printf '#!/bin/sh\necho mine\n' > "$F/policy"; chmod 700 "$F/policy"; cp -p "$F/policy" "$T/policy.before"
  deps $mode
  [ $rc = 0 ] && ok "deps $mode, something missing: exit 0" || bad "deps $mode, something missing: exit $rc: $(cat "$T/err")"
  contains "$T/out" "scripts/deps: installing libc-ares-dev" "deps $mode: says what it installs"
  grep -q "^apt-get install .*libc-ares-dev" "$F/apt.log" && ok "deps $mode: apt-get install libc-ares-dev" \
    || bad "deps $mode: apt-get calls: $(cat "$F/apt.log")"
  grep -q "^policy 101 while apt-get install" "$F/apt.log" && ok "deps $mode: no daemon may start during the install" \
    || bad "deps $mode: policy-rc.d did not say 101 during the install: $(cat "$F/apt.log")"
  cmp -s "$F/policy" "$T/policy.before" && [ "$(stat -c %a "$F/policy")" = 700 ] \
    && ok "deps $mode: the machine's policy-rc.d restored" || bad "deps $mode: policy-rc.d not restored"
  [ ! -s "$T/err" ] && ok "deps $mode: nothing on stderr" || bad "deps $mode: stderr: $(cat "$T/err")"
done
rm -f "$F/policy"
printf '%s\n' $ALL | grep -v '^libgtest-dev$' > "$F/installed"
deps try
[ $rc = 0 ] && [ ! -e "$F/policy" ] && ok "deps try: no policy-rc.d before, none after" \
  || bad "deps try without a policy-rc.d: exit $rc, left: $(ls "$F")"

# 3. Every failure path: non-zero, one line naming what failed.
printf '%s\n' $ALL | grep -v '^libssl-dev$' > "$F/installed"
FAKE_UID=1000 deps build
[ $rc != 0 ] && ok "not root, something missing: exit $rc" || bad "not root, something missing: exit 0"
one_line "not root" "missing packages: libssl-dev (run as root"
FAKE_UPDATE_RC=100 deps build
[ $rc != 0 ] && ok "apt-get update fails: exit $rc" || bad "apt-get update fails: exit 0"
one_line "apt-get update fails" "apt-get update failed, exit 100 (log: "
FAKE_INSTALL_RC=100 deps try
[ $rc != 0 ] && ok "apt-get install fails: exit $rc" || bad "apt-get install fails: exit 0"
one_line "apt-get install fails" "apt-get install of libssl-dev failed, exit 100 (log: "
log=$(sed -n 's/.*(log: \(.*\))$/\1/p' "$T/err")
[ -n "$log" ] && grep -q "Unable to locate package" "$log" && ok "apt-get's own words kept in the log it names" \
  || bad "the log named ('$log') lacks apt-get's error"
rm -f "$log"
FAKE_INSTALL_NOOP=1 deps build
[ $rc != 0 ] && ok "package still missing after install: exit $rc" || bad "package still missing: exit 0"
one_line "package still missing" "libssl-dev is still not installed after apt-get install"
deps nonsense
[ $rc = 64 ] && ok "unknown mode: exit 64 (EX_USAGE)" || bad "unknown mode: exit $rc"
one_line "unknown mode" "unknown mode 'nonsense'"
rm -f /tmp/relay-deps.* 2>/dev/null

# 4. The real script on this machine, where scripts/test has installed
# everything: build and try are satisfied, and say nothing.
for mode in build try; do
  sh "$DEPS" $mode > "$T/out" 2>&1
  rc=$?
  [ $rc = 0 ] && [ ! -s "$T/out" ] && ok "real deps $mode: exit 0, silent" || bad "real deps $mode: exit $rc: $(cat "$T/out")"
done
finish
