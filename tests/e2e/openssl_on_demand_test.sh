#!/bin/sh
# relay-deliver maps OpenSSL only when a run needs TLS (src/tls/openssl_lazy.cc,
# issue 19: about 1.7 MiB of every plain run's resident memory). Shows,
# against a real Postfix instance that offers STARTTLS:
# - relay-deliver does not link libssl or libcrypto (ldd), relayctl does;
# - a plain-SMTP run delivers and the dynamic loader never opens libssl
#   (LD_DEBUG=files, glibc's own trace of every object it loads);
# - a STARTTLS run loads it, verifies the certificate and delivers;
# - with libssl.so.3 unloadable (an empty file bind-mounted over it, in a
#   mount namespace; the real one is untouched), a STARTTLS run keeps the
#   message and logs one line naming the library, and a plain run in the
#   same namespace still delivers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_harness.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Postfix instances"; exit 77; }
pf_install || { echo "SKIP: cannot install postfix"; exit 77; }

pf_make_ca "$T/ca" || { bad "pf_make_ca"; finish; }
chmod -R a+rX "$T/ca"
relay_private_spool
touch "$T/relayd.log"; chown 65534 "$T/relayd.log"
cp "$CONF" "$T/base.conf"
P=$(pf_free_port)
pf_start "$T/pf" "$P" || { bad "postfix did not start"; finish; }
mkconf() {
  { cat "$T/base.conf"; echo "smarthost = localhost:$P $1"; echo "tls_ca_file = $T/ca/ca.pem"
    echo "log = $T/relayd.log"; echo "timeout_connect = 10s"; echo "timeout_command = 10s"; } > "$CONF"
  chmod 644 "$CONF"
}
send() { printf 'Subject: %s\n\nbody\n' "$1" | "$BIN/sendmail" -C "$CONF" -i "$1@example.org"; }
# deliver NAME [unshare...]: relay-deliver --once as the spool's owner would
# run it, with glibc's loader trace in $T/ld.NAME.*
deliver() {
  name=$1; shift
  rm -f "$T/ld.$name".*
  : > "$T/relayd.log"
  LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld.$name" "$@" "$BIN/relay-deliver" -C "$CONF" --once > "$T/deliver.err" 2>&1
}
loaded() { cat "$T/ld.$1".* 2> /dev/null | grep -c 'file=libssl\.so'; }

ldd "$BIN/relay-deliver" | grep -Eq 'libssl|libcrypto' && bad "relay-deliver links OpenSSL: $(ldd "$BIN/relay-deliver" | grep -E 'ssl|crypto')" \
  || ok "relay-deliver does not link libssl or libcrypto"
ldd "$BIN/relayctl" | grep -q 'libssl' && ok "relayctl does (the check is not blind)" || bad "relayctl does not link libssl either"

mkconf none
send plain1
deliver plain
[ "$(queue_count)" = 0 ] && ok "plain: delivered" || bad "plain: $(queue_count) left: $(tail -2 "$T/relayd.log")"
ls "$T/ld.plain".* > /dev/null 2>&1 && ok "plain: the loader trace was written" || bad "plain: no LD_DEBUG trace"
[ "$(loaded plain)" = 0 ] && ok "plain: libssl was never loaded" || bad "plain: libssl loaded: $(cat "$T/ld.plain".* | grep libssl | head -2)"

mkconf starttls
send tls1
deliver tls
[ "$(queue_count)" = 0 ] && ok "starttls: delivered" || bad "starttls: $(queue_count) left: $(tail -2 "$T/relayd.log")"
contains "$T/relayd.log" "verified" "starttls: the certificate was verified"
[ "$(loaded tls)" -gt 0 ] && ok "starttls: libssl was loaded for it" || bad "starttls: no libssl in the loader trace"

if unshare -m true 2> /dev/null; then
  lib=$(ldd "$BIN/relayctl" | awk '/libssl\.so/ { print $3 }')
  [ -n "$lib" ] || bad "cannot find relayctl's libssl"
  : > "$T/empty.so"
  send tls2
  : > "$T/relayd.log"
  unshare -m sh -c "mount --bind '$T/empty.so' '$lib' && '$BIN/relay-deliver' -C '$CONF' --once" > "$T/deliver.err" 2>&1
  [ "$(queue_count)" = 1 ] && ok "no libssl: the STARTTLS message stays queued" || bad "no libssl: queue has $(queue_count)"
  contains "$T/relayd.log" "TLS: cannot load libssl.so.3" "no libssl: the log names the library"
  mkconf none
  unshare -m sh -c "mount --bind '$T/empty.so' '$lib' && '$BIN/relay-deliver' -C '$CONF' --once" > "$T/deliver.err" 2>&1
  [ "$(queue_count)" = 0 ] && ok "no libssl: a plain run still delivers" || bad "no libssl: plain run left $(queue_count): $(tail -2 "$T/relayd.log")"
else
  echo "note: no mount namespace here; the missing-libssl case is not tried"
fi
finish
