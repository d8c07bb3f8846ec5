# Private Postfix instances on loopback, for end-to-end tests of relayd.
# POSIX sh; source it after lib.sh (or alone):
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/postfix_harness.sh"
#   pf_install || { echo "skip: cannot install postfix"; exit 77; }
#   pf_make_ca "$T/ca"
#   pf_start "$T/pf1" 2525 reject=bad@example.org defer=later@example.org || exit 1
#   ... relayd sends to 127.0.0.1:2525 with STARTTLS, trusting $T/ca/ca.pem ...
#   pf_wait_count "$T/pf1" 1 20 || bad "nothing arrived"
#   for m in $(pf_messages "$T/pf1"); do pf_rcpt "$m"; done
#   pf_stop "$T/pf1"          # or leave it to the EXIT trap
#
# Functions (they return non-zero and say why on stderr when they fail):
#   pf_install            apt-installs postfix openssl swaks libnet-ssleay-perl
#                         if missing, never starting a daemon (needs root)
#   pf_make_ca DIR        test certificates, see pf_make_ca below; sets PF_CA
#   pf_start DIR PORT [OPTION...]   a private instance on 127.0.0.1:PORT
#       notls              do not offer STARTTLS
#       cert=NAME          serve CADIR/NAME.pem + CADIR/NAME.key (server [the
#                          default], wronghost, expired, selfsigned, wrongcasrv),
#                          or cert=/path/x.pem (key /path/x.key)
#       ca=CADIR           where cert= names are looked up (default: $PF_CA,
#                          i.e. the last pf_make_ca DIR; else DIR/ca is made)
#       encrypt            require STARTTLS before MAIL (smtpd_tls_security_level=encrypt)
#       reject=ADDR        RCPT TO:<ADDR> gets "550 5.1.1 ..." (repeatable)
#       defer=ADDR         RCPT TO:<ADDR> gets "450 4.2.0 ..." (repeatable)
#       size=BYTES         message_size_limit (the SIZE advertised in EHLO)
#       ipv6               also listen on [::1]:PORT
#       sasl=USER:PASSWORD SMTP AUTH with Cyrus SASL (repeatable, one per user;
#                          the password is everything after the first colon):
#                          mechanisms SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN from
#                          DIR/etc/sasldb2 (auxprop sasldb), offered only after
#                          STARTTLS (smtpd_tls_auth_only); authenticated
#                          clients may relay (permit_sasl_authenticated) and
#                          the reject=/defer= table still applies to them.
#                          Users are in realm PF_SASL_REALM (mail.test, the
#                          instance's myhostname); smtpd_sasl_local_domain is
#                          empty, so Cyrus takes the realm of a login name
#                          without @ from myhostname: a client may log in as
#                          USER or as USER@mail.test, and Postfix logs
#                          sasl_username=USER or USER@mail.test as given.
#                          The users are in DIR/etc/sasldb2 (root:postfix 640).
#       authrequired       with sasl=: a client that has not logged in gets
#                          "554 5.7.1 <ADDR>: Recipient address rejected:
#                          Access denied" for every RCPT (relay restrictions
#                          permit_sasl_authenticated, reject; mynetworks empty)
#       set:NAME=VALUE     any main.cf parameter (postconf -e), applied last
#       maxtime=SECONDS    watchdog: stop the instance after this long even if
#                          nobody calls pf_stop (default 900)
#   pf_reject DIR ADDR | pf_defer DIR ADDR | pf_accept DIR ADDR
#                         change one address in the recipient table, pf_reload
#   pf_reload DIR         rewrite DIR/etc/recipient_access from
#                         DIR/etc/reject.list and DIR/etc/defer.list (one
#                         address a line; edit those), postfix reload, and wait
#                         until the master has re-read its configuration
#   pf_stop DIR           stop, bounded (10 s, then SIGKILL); idempotent
#   pf_stop_all           stop every instance this shell started
#   pf_wait_count DIR N [SECONDS]  wait until >= N messages were delivered
#                         (default 20 s); 1 on timeout
#   pf_count DIR          number of delivered messages
#   pf_messages DIR       paths of delivered messages, oldest first
#   pf_rcpt FILE          envelope recipient of a delivered message (X-Original-To)
#   pf_sender FILE        envelope sender (Return-Path, without <>; empty for <>)
#   pf_log DIR            path of the instance's log (DIR/maillog)
#   pf_free_port          prints a TCP port that nothing listens on at 127.0.0.1
#   pf_master_pid DIR     pid of the instance's master (children: ps --ppid);
#                         all instances' processes are named alike ("master -w",
#                         "smtpd -n 127.0.0.1:PORT ..."), MAIL_CONFIG=DIR/etc
#                         in their environment tells them apart
#   pf_clear DIR          delete delivered messages
#
# Layout of DIR: etc/ (main.cf, master.cf, recipient_access, smtpd.pem/.key,
# with sasl=: sasl/smtpd.conf, sasldb2),
# queue/, data/, maillog, start.log, maildir/{new,cur,tmp}.  Every accepted
# recipient, whatever its domain, is delivered by virtual(8) into the one
# maildir DIR/maildir/new as ONE file per recipient (owner nobody, mode 600),
# starting with the headers Postfix prepends:
#   Return-Path: <envelope sender>
#   X-Original-To: the envelope recipient exactly as given in RCPT TO
#   Delivered-To: the recipient after address rewriting (the same here)
#   Received: from HELO (unknown [127.0.0.1]) (using TLSv1.3 with cipher ...)
#             ... by mail.test (Postfix) with ESMTPS id QUEUEID; DATE
#             ("with ESMTPS" and the "using" clause only when STARTTLS was used)
# followed by the message exactly as received (dot-unstuffed).  Note that
# cleanup(8) merges duplicate recipients of one message: a client that sends
# the same RCPT twice in one transaction still yields one file.
#
# Sourcing this file installs an EXIT trap that stops all instances and then
# removes $T when it is a /tmp directory (as lib.sh's own trap does), and
# HUP/INT/TERM traps that exit through it. Each instance also has a watchdog
# process that stops it when this shell is gone or after maxtime seconds.
#
# Nothing here does DNS or leaves loopback: smtpd_peername_lookup = no, no
# smtp(8) client in master.cf, every non-virtual transport is error:.

PF_CA=${PF_CA:-}
PF_SASL_REALM=mail.test
PF_INSTANCES=""
PF_OWNER_PID=$$
PF_PACKAGES="postfix openssl swaks libnet-ssleay-perl"

pf__err() { echo "postfix_harness: $*" >&2; }

pf__trap_exit() {
  pf_stop_all
  if [ -n "${T:-}" ]; then case $T in /tmp/?*) rm -rf "$T" ;; esac; fi
}
trap pf__trap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086
pf__have() {
  [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/postconf ] &&
    [ "$(dpkg-query -W -f='${Status}\n' $PF_PACKAGES 2> /dev/null | grep -c 'install ok installed')" = 4 ] &&
    getent passwd postfix > /dev/null 2>&1 && getent group postdrop > /dev/null 2>&1
}

# pf_install: the packages from Debian, without a running default instance:
# debconf "No configuration" (so no /etc/postfix/main.cf is written), and a
# policy-rc.d that forbids service starts while apt runs (an existing one is
# put back afterwards). Never removes packages (--no-remove: postfix
# conflicts with any other MTA).
pf_install() {
  pf__have && return 0
  if [ "$(id -u)" != 0 ]; then pf__err "pf_install: packages missing and not root"; return 1; fi
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections || return 1
  _pfi_prc=/usr/sbin/policy-rc.d
  _pfi_saved=""
  _pfi_log=$(mktemp /tmp/pf_install.XXXXXX)
  if [ -e "$_pfi_prc" ]; then
    _pfi_saved=$(mktemp /tmp/policy-rc.d.XXXXXX) && cp -p "$_pfi_prc" "$_pfi_saved" || return 1
  fi
  printf '#!/bin/sh\n# postfix_harness.sh: no service starts during install\nexit 101\n' > "$_pfi_prc"
  chmod 755 "$_pfi_prc"
  # shellcheck disable=SC2086
  set -- -y -q --no-install-recommends --no-remove -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $PF_PACKAGES
  DEBIAN_FRONTEND=noninteractive apt-get install "$@" > "$_pfi_log" 2>&1 ||
    { apt-get update -q >> "$_pfi_log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install "$@" >> "$_pfi_log" 2>&1; }
  _pfi_rc=$?
  if [ -n "$_pfi_saved" ]; then cp -p "$_pfi_saved" "$_pfi_prc" && rm -f "$_pfi_saved"; else rm -f "$_pfi_prc"; fi
  if [ $_pfi_rc != 0 ] || ! pf__have; then
    pf__err "pf_install: apt-get failed:"; tail -20 "$_pfi_log" >&2
    rm -f "$_pfi_log"; return 1
  fi
  rm -f "$_pfi_log"
  return 0
}

# pf_make_ca DIR: EC P-256 keys, certificates valid 2 days (from now).
#   ca.pem ca.key               the test CA ("Relay Test ca")
#   server.pem server.key       CN=localhost, SAN DNS:localhost DNS:mail.test
#                               IP:127.0.0.1 IP:::1, signed by ca
#   wronghost.pem .key          CN and SAN wrong.test, signed by ca
#   expired.pem .key            like server, signed by ca, valid from 3 days
#                               ago until 1 day ago
#   selfsigned.pem .key         like server, self-signed
#   wrongca.pem wrongca.key     an unrelated CA ("Relay Test wrongca")
#   wrongcasrv.pem .key         like server, signed by wrongca
pf_make_ca() {
  _pfc_d=${1:?pf_make_ca DIR}
  case $_pfc_d in /*) ;; *) _pfc_d=$(pwd)/$_pfc_d ;; esac
  mkdir -p "$_pfc_d" || return 1
  (
    cd "$_pfc_d" || exit 1
    umask 077
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>> err.log; }
    ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth'
    printf '%s\nsubjectAltName=DNS:localhost,DNS:mail.test,IP:127.0.0.1,IP:::1\n' "$ext" > good.ext
    printf '%s\nsubjectAltName=DNS:wrong.test\n' "$ext" > wrong.ext
    for ca in ca wrongca; do
      key $ca
      openssl req -x509 -new -key $ca.key -out $ca.pem -days 2 -subj "/O=Relay Test/CN=Relay Test $ca" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>> err.log
    done
    sign() { # NAME CN EXTFILE CA
      key "$1"
      openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>> err.log
      openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days 2 \
        -extfile "$3" -out "$1.pem" 2>> err.log
    }
    sign server localhost good.ext ca
    sign wronghost wrong.test wrong.ext ca
    sign wrongcasrv localhost good.ext wrongca
    key selfsigned
    openssl req -x509 -new -key selfsigned.key -out selfsigned.pem -days 2 -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,DNS:mail.test,IP:127.0.0.1,IP:::1 2>> err.log
    # expired: OpenSSL 3.0's x509 has no -not_after, but "openssl ca" takes dates.
    key expired
    openssl req -new -key expired.key -subj /CN=localhost -out expired.csr 2>> err.log
    mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial
    cat > cadb/ca.cnf <<'EOF'
[ca]
default_ca = test
[test]
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
EOF
    openssl ca -batch -config cadb/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
      -out expired.pem -notext -extfile good.ext \
      -startdate "$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)" \
      -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" 2>> err.log > /dev/null
    rm -rf cadb ./*.csr ./*.srl good.ext wrong.ext
    for f in ca wrongca server wronghost wrongcasrv selfsigned expired; do
      [ -s $f.pem ] && [ -s $f.key ] || { cat err.log >&2; exit 1; }
    done
    rm -f err.log
    chmod 644 ./*.pem
  ) || { pf__err "pf_make_ca $_pfc_d failed"; return 1; }
  PF_CA=$_pfc_d
}

# Is something listening on 127.0.0.1:$1 (or on [::1]:$1 when $2 = 6)?
pf__listening() {
  _pfl_hex=$(printf '%04X' "$1")
  if [ "${2:-4}" = 6 ]; then
    awk -v a="00000000000000000000000001000000:$_pfl_hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp6 2> /dev/null
  else
    awk -v a="0100007F:$_pfl_hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
  fi
}

pf_free_port() {
  _pfp_p=$(( (($$ * 7919) + $(date +%N | sed 's/^0*//;s/^$/0/')) % 30000 + 20000 ))
  _pfp_i=0
  while pf__listening $_pfp_p || pf__listening $_pfp_p 6; do
    _pfp_p=$((_pfp_p + 1)); _pfp_i=$((_pfp_i + 1))
    [ $_pfp_i -gt 1000 ] && return 1
  done
  echo $_pfp_p
}

# The pid of DIR's running master, if any.
pf__master_pid() {
  [ -r "$1/queue/pid/master.pid" ] || return 1
  _pfm_p=$(tr -dc 0-9 < "$1/queue/pid/master.pid")
  [ -n "$_pfm_p" ] && kill -0 "$_pfm_p" 2> /dev/null && echo "$_pfm_p"
}

# DIR/etc/recipient_access (texthash) from DIR/etc/reject.list and defer.list.
pf__write_access() {
  {
    echo "# written by postfix_harness.sh from reject.list and defer.list"
    [ -s "$1/etc/reject.list" ] && sed '/^$/d; s/$/ 550 5.1.1 Recipient rejected by test/' "$1/etc/reject.list"
    [ -s "$1/etc/defer.list" ] && sed '/^$/d; s/$/ 450 4.2.0 Recipient deferred by test/' "$1/etc/defer.list"
  } > "$1/etc/recipient_access"
  return 0
}

pf_start() {
  _pfs_dir=${1:?pf_start DIR PORT [options]}
  _pfs_port=${2:?pf_start DIR PORT [options]}
  shift 2
  pf__have || { pf__err "postfix is not installed (pf_install)"; return 1; }
  case $_pfs_dir in /*) ;; *) _pfs_dir=$(pwd)/$_pfs_dir ;; esac
  if pf__master_pid "$_pfs_dir" > /dev/null; then pf__err "$_pfs_dir: already running"; return 1; fi
  if pf__listening "$_pfs_port"; then pf__err "127.0.0.1:$_pfs_port is already in use"; return 1; fi
  _pfs_tls=yes _pfs_cert=server _pfs_cadir=$PF_CA _pfs_level=may _pfs_size="" _pfs_ipv6=no
  _pfs_maxtime=900 _pfs_sets="" _pfs_sasl="" _pfs_authreq=no
  mkdir -p "$_pfs_dir/etc" "$_pfs_dir/queue" "$_pfs_dir/data" || return 1
  chown postfix:postfix "$_pfs_dir/data" && chmod 700 "$_pfs_dir/data" || return 1
  : > "$_pfs_dir/etc/reject.list"
  : > "$_pfs_dir/etc/defer.list"
  for _pfs_o in "$@"; do
    case $_pfs_o in
      notls) _pfs_tls=no ;;
      cert=?*) _pfs_cert=${_pfs_o#cert=} ;;
      ca=?*) _pfs_cadir=${_pfs_o#ca=} ;;
      encrypt) _pfs_level=encrypt ;;
      reject=?*) echo "${_pfs_o#reject=}" >> "$_pfs_dir/etc/reject.list" ;;
      defer=?*) echo "${_pfs_o#defer=}" >> "$_pfs_dir/etc/defer.list" ;;
      size=?*) _pfs_size=${_pfs_o#size=} ;;
      ipv6) _pfs_ipv6=yes ;;
      maxtime=?*) _pfs_maxtime=${_pfs_o#maxtime=} ;;
      sasl=?*:?*) _pfs_sasl="$_pfs_sasl
${_pfs_o#sasl=}" ;;
      authrequired) _pfs_authreq=yes ;;
      set:?*=*) _pfs_sets="$_pfs_sets
${_pfs_o#set:}" ;;
      *) pf__err "pf_start: unknown option '$_pfs_o'"; return 1 ;;
    esac
  done
  if [ $_pfs_authreq = yes ] && [ -z "$_pfs_sasl" ]; then
    pf__err "pf_start: authrequired needs sasl=USER:PASSWORD"; return 1
  fi
  if [ -n "$_pfs_sasl" ] && ! [ -x /usr/sbin/saslpasswd2 ]; then
    pf__err "pf_start: sasl= needs saslpasswd2 (apt-get install sasl2-bin libsasl2-modules libsasl2-modules-db)"
    return 1
  fi
  if [ $_pfs_tls = yes ]; then
    case $_pfs_cert in
      */*) _pfs_certfile=$_pfs_cert; _pfs_keyfile=${_pfs_cert%.pem}.key ;;
      *)
        if [ -z "$_pfs_cadir" ]; then
          pf_make_ca "$_pfs_dir/ca" || return 1
          _pfs_cadir=$_pfs_dir/ca
        fi
        _pfs_certfile=$_pfs_cadir/$_pfs_cert.pem; _pfs_keyfile=$_pfs_cadir/$_pfs_cert.key ;;
    esac
    [ -r "$_pfs_certfile" ] && [ -r "$_pfs_keyfile" ] ||
      { pf__err "pf_start: no $_pfs_certfile or $_pfs_keyfile"; return 1; }
    cp "$_pfs_certfile" "$_pfs_dir/etc/smtpd.pem" && cp "$_pfs_keyfile" "$_pfs_dir/etc/smtpd.key" &&
      chmod 600 "$_pfs_dir/etc/smtpd.key" || return 1
  fi
  pf__write_access "$_pfs_dir"

  # virtual(8) writes as nobody:nogroup, which must reach DIR/maildir: each
  # parent directory that nobody cannot search gets o+x (e.g. lib.sh's $T).
  _pfs_uid=$(id -u nobody) && _pfs_gid=$(getent group nogroup | cut -d: -f3) || return 1
  mkdir -p "$_pfs_dir/maildir/new" "$_pfs_dir/maildir/cur" "$_pfs_dir/maildir/tmp" &&
    chown -R "$_pfs_uid:$_pfs_gid" "$_pfs_dir/maildir" && chmod 755 "$_pfs_dir" || return 1
  _pfs_p=$_pfs_dir
  while [ "$_pfs_p" != / ] && [ "$_pfs_p" != . ]; do
    _pfs_p=$(dirname "$_pfs_p")
    setpriv --reuid="$_pfs_uid" --regid="$_pfs_gid" --clear-groups test -x "$_pfs_p" || chmod o+x "$_pfs_p"
  done

  _pfs_inet=127.0.0.1 _pfs_proto=ipv4
  _pfs_mynet="127.0.0.0/8 [::1]/128"
  _pfs_relayr="permit_mynetworks, reject_unauth_destination"
  if [ -n "$_pfs_sasl" ]; then
    _pfs_relayr="permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"
    # Every domain is a virtual mailbox domain here, so reject_unauth_destination
    # lets anyone through: authrequired must end in a plain reject.
    [ $_pfs_authreq = yes ] && _pfs_mynet="" _pfs_relayr="permit_sasl_authenticated, reject"
  fi
  [ $_pfs_ipv6 = yes ] && _pfs_inet="127.0.0.1, [::1]" _pfs_proto=all
  cat > "$_pfs_dir/etc/main.cf" <<EOF
# Private test instance written by tests/e2e/postfix_harness.sh
compatibility_level = 3.6
queue_directory = $_pfs_dir/queue
data_directory = $_pfs_dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-test-$_pfs_port
maillog_file = $_pfs_dir/maillog
maillog_file_prefixes = $_pfs_dir
myhostname = mail.test
mydomain = test
myorigin = \$myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = $_pfs_inet
inet_protocols = $_pfs_proto
mynetworks = $_pfs_mynet
smtpd_banner = \$myhostname ESMTP
biff = no
append_dot_mydomain = no
notify_classes =
smtputf8_enable = yes
# No DNS, and nothing leaves loopback.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
default_transport = error:5.7.1 outbound delivery disabled in this test instance
relay_transport = \$default_transport
local_transport = \$default_transport
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = $_pfs_relayr
smtpd_recipient_restrictions = check_recipient_access texthash:$_pfs_dir/etc/recipient_access
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
in_flow_delay = 0
# Every recipient of every domain into DIR/maildir/.
virtual_mailbox_domains = static:all
virtual_mailbox_base = $_pfs_dir
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:$_pfs_uid
virtual_gid_maps = static:$_pfs_gid
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
enable_original_recipient = yes
smtp_tls_security_level = none
smtpd_tls_session_cache_database =
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF
  if [ $_pfs_tls = yes ]; then
    cat >> "$_pfs_dir/etc/main.cf" <<EOF
smtpd_tls_security_level = $_pfs_level
smtpd_tls_cert_file = $_pfs_dir/etc/smtpd.pem
smtpd_tls_key_file = $_pfs_dir/etc/smtpd.key
EOF
  else
    echo "smtpd_tls_security_level = none" >> "$_pfs_dir/etc/main.cf"
  fi
  [ -n "$_pfs_size" ] && echo "message_size_limit = $_pfs_size" >> "$_pfs_dir/etc/main.cf"
  if [ -n "$_pfs_sasl" ]; then
    cat >> "$_pfs_dir/etc/main.cf" <<EOF
# SMTP AUTH (sasl=): Cyrus, DIR/etc/sasl/smtpd.conf, users in DIR/etc/sasldb2.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $_pfs_dir/etc/sasl
smtpd_sasl_local_domain =
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = yes
EOF
    mkdir -p "$_pfs_dir/etc/sasl" || return 1
    cat > "$_pfs_dir/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $_pfs_dir/etc/sasldb2
mech_list: SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN
EOF
  fi

  # No chroot anywhere (5th column n): the queue directory is not a jail.
  # No pickup, no smtp client. smtpd max_use=1: a fresh process, which reads
  # the tables anew, for each connection.
  {
    echo "# service type private unpriv chroot wakeup maxproc command"
    echo "127.0.0.1:$_pfs_port inet n - n - - smtpd -o max_use=1"
    [ $_pfs_ipv6 = yes ] && echo "[::1]:$_pfs_port inet n - n - - smtpd -o max_use=1"
    cat <<'EOF'
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  } > "$_pfs_dir/etc/master.cf"

  if [ -n "$_pfs_sets" ]; then
    printf '%s\n' "$_pfs_sets" | while IFS= read -r _pfs_kv; do
      [ -z "$_pfs_kv" ] || postconf -c "$_pfs_dir/etc" -e "$_pfs_kv" || exit 1
    done || { pf__err "pf_start: bad set: option"; return 1; }
  fi

  : > "$_pfs_dir/maillog"
  chown -R root:root "$_pfs_dir/etc"
  if [ -n "$_pfs_sasl" ]; then
    # smtpd runs as postfix and reads the users with the sasldb auxprop plugin
    # (group postfix, not owner: postfix-script warns of files in etc/ not
    # owned by root).
    rm -f "$_pfs_dir/etc/sasldb2"
    printf '%s\n' "$_pfs_sasl" | while IFS= read -r _pfs_up; do
      [ -n "$_pfs_up" ] || continue
      printf '%s' "${_pfs_up#*:}" |
        saslpasswd2 -f "$_pfs_dir/etc/sasldb2" -c -p -u "$PF_SASL_REALM" "${_pfs_up%%:*}" ||
        { pf__err "pf_start: saslpasswd2 failed for ${_pfs_up%%:*}"; exit 1; }
    done || return 1
    chown root:postfix "$_pfs_dir/etc/sasldb2" && chmod 640 "$_pfs_dir/etc/sasldb2" || return 1
  fi
  postfix -c "$_pfs_dir/etc" start > "$_pfs_dir/start.log" 2>&1 < /dev/null
  _pfs_rc=$?
  _pfs_i=0
  while [ $_pfs_rc = 0 ]; do
    if pf__master_pid "$_pfs_dir" > /dev/null && pf__listening "$_pfs_port" &&
       { [ $_pfs_ipv6 = no ] || pf__listening "$_pfs_port" 6; }; then
      break
    fi
    _pfs_i=$((_pfs_i + 1))
    [ $_pfs_i -ge 100 ] && { _pfs_rc=1; break; }
    sleep 0.1
  done
  if [ $_pfs_rc != 0 ]; then
    pf__err "pf_start $_pfs_dir $_pfs_port failed:"
    cat "$_pfs_dir/start.log" >&2
    tail -20 "$_pfs_dir/maillog" >&2
    pf__stop_master "$_pfs_dir"
    return 1
  fi
  PF_INSTANCES="$PF_INSTANCES $_pfs_dir"
  # Watchdog: stops the instance once this shell is gone, or after maxtime.
  (
    trap - EXIT HUP INT TERM
    _pfw_n=0
    while [ $_pfw_n -lt "$_pfs_maxtime" ] && kill -0 "$PF_OWNER_PID" 2> /dev/null &&
          [ -e "$_pfs_dir/queue/pid/master.pid" ]; do
      sleep 1
      _pfw_n=$((_pfw_n + 1))
    done
    pf__stop_master "$_pfs_dir"
  ) < /dev/null > /dev/null 2>&1 &
  echo $! > "$_pfs_dir/watchdog.pid"
  return 0
}

pf_master_pid() { pf__master_pid "${1:?pf_master_pid DIR}"; }

# Stops DIR's master (postfix stop; SIGKILL to it and its children after 10 s).
pf__stop_master() {
  _pfk_mp=$(pf__master_pid "$1") || return 0
  postfix -c "$1/etc" stop > /dev/null 2>&1 < /dev/null
  _pfk_i=0
  while kill -0 "$_pfk_mp" 2> /dev/null; do
    _pfk_i=$((_pfk_i + 1))
    if [ $_pfk_i -ge 100 ]; then
      for _pfk_c in $(ps -o pid= --ppid "$_pfk_mp" 2> /dev/null); do kill -9 "$_pfk_c" 2> /dev/null; done
      kill -9 "$_pfk_mp" 2> /dev/null
      break
    fi
    sleep 0.1
  done
  return 0
}

pf_stop() {
  _pft_dir=${1:?pf_stop DIR}
  case $_pft_dir in /*) ;; *) _pft_dir=$(pwd)/$_pft_dir ;; esac
  if [ -r "$_pft_dir/watchdog.pid" ]; then
    kill "$(cat "$_pft_dir/watchdog.pid")" 2> /dev/null
    rm -f "$_pft_dir/watchdog.pid"
  fi
  pf__stop_master "$_pft_dir"
  _pft_rest=""
  for _pft_x in $PF_INSTANCES; do [ "$_pft_x" = "$_pft_dir" ] || _pft_rest="$_pft_rest $_pft_x"; done
  PF_INSTANCES=$_pft_rest
  return 0
}

pf_stop_all() {
  for _pfa_x in $PF_INSTANCES; do pf_stop "$_pfa_x"; done
  PF_INSTANCES=""
}

pf_reload() {
  _pfr_dir=${1:?pf_reload DIR}
  pf__write_access "$_pfr_dir"
  _pfr_n=$(grep -c 'reload -- version' "$_pfr_dir/maillog" 2> /dev/null)
  postfix -c "$_pfr_dir/etc" reload > /dev/null 2>&1 < /dev/null ||
    { pf__err "pf_reload $_pfr_dir: postfix reload failed"; return 1; }
  _pfr_i=0
  until [ "$(grep -c 'reload -- version' "$_pfr_dir/maillog" 2> /dev/null)" -gt "$_pfr_n" ]; do
    _pfr_i=$((_pfr_i + 1))
    [ $_pfr_i -ge 100 ] && { pf__err "pf_reload $_pfr_dir: no reload in maillog"; return 1; }
    sleep 0.1
  done
  return 0
}

pf__list_del() { # FILE ADDR
  grep -vixF -- "$2" "$1" > "$1.new"
  mv "$1.new" "$1"
}
pf_reject() { pf__list_del "$1/etc/defer.list" "$2"; echo "$2" >> "$1/etc/reject.list"; pf_reload "$1"; }
pf_defer() { pf__list_del "$1/etc/reject.list" "$2"; echo "$2" >> "$1/etc/defer.list"; pf_reload "$1"; }
pf_accept() { pf__list_del "$1/etc/reject.list" "$2"; pf__list_del "$1/etc/defer.list" "$2"; pf_reload "$1"; }

pf_messages() {
  find "${1:?pf_messages DIR}/maildir/new" "$1/maildir/cur" -type f -printf '%T@ %p\n' 2> /dev/null |
    sort -n | cut -d' ' -f2-
}

pf_count() { pf_messages "$1" | wc -l; }

pf_wait_count() {
  _pfn_want=${2:?pf_wait_count DIR N [SECONDS]}
  _pfn_limit=$((${3:-20} * 10))
  _pfn_i=0
  while [ "$(pf_count "$1")" -lt "$_pfn_want" ]; do
    _pfn_i=$((_pfn_i + 1))
    [ $_pfn_i -gt $_pfn_limit ] && return 1
    sleep 0.1
  done
  return 0
}

# A header of the block Postfix prepended (the first occurrence).
pf__hdr() { sed -n "/^\$/q; s/^$2: *//p" "$1" | head -1; }
pf_rcpt() { pf__hdr "$1" X-Original-To; }
pf_sender() { pf__hdr "$1" Return-Path | sed 's/^<//; s/>$//'; }
pf_log() { echo "$1/maillog"; }
pf_clear() { find "$1/maildir/new" "$1/maildir/cur" -type f -delete; }
