// relayctl import from Postfix as a null client: main.cf and the source
// of smtp_sasl_password_maps (sasl_passwd). PostfixConf, the main.cf
// reader, is in import.cc: ImportCompanionFiles reads main.cf too.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- Postfix

namespace {

// The settings of main.cf that the sections below read, or warn about
// themselves.
bool PostfixHandled(const std::string& name) {
  static const std::set<std::string> kHandled = {
      "myorigin", "mydomain", "myhostname", "mydestination", "inet_interfaces",
      "smtp_tls_security_level", "smtp_tls_wrappermode", "smtp_tls_CAfile", "smtp_tls_CApath",
      "smtp_tls_cert_file", "smtp_tls_key_file", "smtp_tls_fingerprint_digest",
      "smtp_tls_fingerprint_cert_match", "smtp_sasl_auth_enable", "smtp_sasl_password_maps",
      "smtp_sasl_mechanism_filter", "relayhost", "smtp_fallback_relay", "fallback_relay",
      "smtp_helo_name", "message_size_limit", "maximal_queue_lifetime", "minimal_backoff_time",
      "delay_warning_time",
      "maximal_backoff_time", "smtp_connect_timeout", "smtp_data_init_timeout",
      "smtp_data_xfer_timeout", "smtp_data_done_timeout", "alias_maps", "smtp_use_tls",
      "smtp_enforce_tls", "smtp_tls_enforce_peername", "smtp_tls_protocols",
      "smtp_tls_mandatory_protocols", "smtp_tls_policy_maps", "smtp_sender_dependent_authentication",
      "alias_database"};
  return kHandled.count(name) != 0;
}

// The other settings a null client's main.cf carries, which relay needs
// no equivalent for: Postfix's SMTP server, local delivery, housekeeping.
bool PostfixIrrelevant(const std::string& name) {
  static const std::set<std::string> kNames = {
      "biff", "append_dot_mydomain", "readme_directory", "html_directory", "compatibility_level",
      "mailbox_size_limit", "mailbox_command", "home_mailbox", "recipient_delimiter", "inet_protocols",
      "mynetworks", "mynetworks_style", "setgid_group", "mail_owner", "default_privs",
      "sendmail_path", "newaliases_path", "mailq_path", "manpage_directory", "sample_directory",
      "meta_directory", "shlib_directory", "queue_directory", "command_directory", "daemon_directory",
      "data_directory", "maillog_file", "smtp_tls_loglevel", "smtp_sasl_security_options",
      "smtp_sasl_tls_security_options", "smtp_tls_note_starttls_offer", "tls_random_source",
      "smtp_tls_mandatory_ciphers", "smtp_tls_ciphers", "smtp_tls_exclude_ciphers",
      "smtp_tls_session_cache_database", "smtp_tls_session_cache_timeout", "disable_vrfy_command",
      "unknown_local_recipient_reject_code", "debug_peer_level", "debugger_command", "local_recipient_maps",
      "local_transport", "smtp_tls_mandatory_exclude_ciphers", "tls_preempt_cipherlist",
      "smtp_tls_connection_reuse", "smtp_address_preference", "smtp_dns_support_level"};
  if (kNames.count(name)) return true;
  static const char* const kPrefixes[] = {"smtpd_", "lmtp_", "local_", "mailbox_", "postscreen_",
                                          "milter_", "anvil_", "qmgr_", "master_", "virtual_mailbox",
                                          "virtual_transport", "virtual_minimum", "virtual_uid",
                                          "virtual_gid", "dovecot_", "proxy_", "tlsproxy_"};
  for (const char* p : kPrefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

// Postfix settings that change outgoing mail and have no relay equivalent.
const char* PostfixUnsupported(const std::string& name) {
  static const std::map<std::string, const char*> kWhy = {
      {"canonical_maps", "relay does not rewrite addresses"},
      {"sender_canonical_maps", "relay does not rewrite sender addresses"},
      {"recipient_canonical_maps", "relay does not rewrite recipient addresses"},
      {"smtp_generic_maps", "relay does not rewrite addresses"},
      {"masquerade_domains", "relay does not rewrite addresses (domain qualifies bare names only)"},
      {"masquerade_exceptions", "relay does not rewrite addresses"},
      {"virtual_alias_maps", "relay expands only the aliases file"},
      {"virtual_alias_domains", "relay delivers nothing locally"},
      {"transport_maps", "relay sends all mail through its smarthosts"},
      {"sender_dependent_relayhost_maps", "relay sends all mail through the same smarthosts"},
      {"sender_dependent_default_transport_maps", "relay sends all mail through the same smarthosts"},
      {"default_transport", "relay sends all mail through its smarthosts"},
      {"relay_transport", "relay sends all mail through its smarthosts"},
      {"relocated_maps", "relay has no relocated table"},
      {"header_checks", "relay does not filter messages"},
      {"smtp_header_checks", "relay does not filter messages"},
      {"body_checks", "relay does not filter messages"},
      {"smtp_body_checks", "relay does not filter messages"},
      {"mime_header_checks", "relay does not filter messages"},
      {"always_bcc", "relay sends no blind copies"},
      {"sender_bcc_maps", "relay sends no blind copies"},
      {"recipient_bcc_maps", "relay sends no blind copies"},
      {"content_filter", "relay does not filter messages"},
      {"smtp_bind_address", "relay does not choose the local address it connects from"},
      {"smtp_bind_address6", "relay does not choose the local address it connects from"},
      {"bounce_queue_lifetime", "relay gives up on bounces after queue_lifetime too"},
      {"smtp_tls_chain_files", "relay takes the client certificate and its key in two files: set "
                               "tls_cert_file and tls_key_file"},
  };
  auto it = kWhy.find(name);
  return it == kWhy.end() ? nullptr : it->second;
}

struct RelayhostItem {
  std::string text;  // as written, for the sasl_passwd lookup
  std::string host;
  unsigned port = 25;
  bool bracketed = false;
  const char* param = "";  // relayhost or a fallback relay
};

bool ParseRelayhost(std::string_view item, RelayhostItem* out) {
  out->text = std::string(item);
  std::string_view addr = item, port;
  if (!item.empty() && item.front() == '[') {
    size_t close = item.find(']');
    if (close == std::string_view::npos) return false;
    addr = item.substr(1, close - 1);
    std::string_view rest = item.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
    out->bracketed = true;
    if (StartsWithIgnoreCase(addr, "ipv6:")) addr.remove_prefix(5);
  } else {
    size_t colon = item.rfind(':');
    if (colon != std::string_view::npos) {
      addr = item.substr(0, colon);
      port = item.substr(colon + 1);
    }
  }
  out->host = std::string(addr);
  if (out->host.empty()) return false;
  if (!port.empty() && !ParseService(port, &out->port)) return false;
  return true;
}

struct TableEntry {
  std::string key;  // in lower case
  std::string value;
  int line = 0;
};

// A Postfix lookup table source: "key value" lines, '#' comments, lines
// that start with blanks continue the one before. Keys in lower case.
std::vector<TableEntry> ParseTable(const std::string& text) {
  std::vector<TableEntry> out;
  int n = 0;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    if ((raw.front() == ' ' || raw.front() == '\t') && !out.empty()) {
      out.back().value += " " + std::string(t);
      continue;
    }
    auto [key, value] = FirstWord(t);
    out.push_back({ToLower(key), std::string(value), n});
  }
  return out;
}

// main.cf and the Builder, and the two questions each section asks of
// main.cf: where a setting is written, and its value.
struct MainCf {
  const ImportSource& src;
  const PostfixConf& pf;
  Builder& b;

  std::string Where(const std::string& name) const {
    const PostfixParam* p = pf.Get(name);
    return "main.cf:" + std::to_string(p ? p->line : 0) + ": " + name;
  }

  // The value with its $names expanded; nullopt when unset, or (with a
  // warning) when it names a parameter that main.cf does not give.
  std::optional<std::string> Value(const std::string& name) const {
    const PostfixParam* p = pf.Get(name);
    if (!p) return std::nullopt;
    std::optional<std::string> v = pf.Expand(p->value);
    if (!v) b.Warn(Where(name) + ": '" + Printable(p->value) + "' names a parameter whose value is "
                   "not in main.cf; not carried over");
    return v;
  }
};

// ---------------------------------------------------------------- relay hosts and TLS

// relayhost, then the fallback relays, each item with the setting it came from.
Status PostfixRelayhosts(const MainCf& in, std::vector<RelayhostItem>* items) {
  std::optional<std::string> relayhost = in.Value("relayhost");
  if (in.pf.Get("relayhost") && !relayhost)
    return Status::DataErr(in.Where("relayhost") + " = " + in.pf.Get("relayhost")->value + ": names a "
                           "parameter whose value is not in main.cf; set relayhost to the host itself");
  if (!relayhost || Trim(*relayhost).empty())
    return Status::DataErr("main.cf has no relayhost: Postfix delivered straight to the recipients' "
                           "MX hosts, which relay never does; nothing to import");
  for (const char* param : {"relayhost", "smtp_fallback_relay", "fallback_relay"}) {
    std::optional<std::string> v = param == std::string("relayhost") ? relayhost : in.Value(param);
    if (!v) continue;
    for (std::string_view w : Words(*v, " \t,")) {
      RelayhostItem it;
      if (!ParseRelayhost(w, &it))
        return Status::DataErr(in.Where(param) + ": '" + std::string(w) + "' is not [host]:port");
      it.param = param;
      items->push_back(it);
    }
  }
  return Status::Ok();
}

// smtp_tls_security_level, or what the older smtp_enforce_tls and
// smtp_use_tls meant; *from names the setting for the comments.
std::string PostfixTlsLevel(const MainCf& in, std::string* from) {
  std::string level;
  if (std::optional<std::string> v = in.Value("smtp_tls_security_level")) {
    level = ToLower(Trim(*v));
    *from = in.Where("smtp_tls_security_level") + " = " + level;
  } else if (std::optional<std::string> e = in.Value("smtp_enforce_tls"); e && IsYes(*e)) {
    std::optional<std::string> peer = in.Value("smtp_tls_enforce_peername");
    level = peer && IsNo(*peer) ? "encrypt" : "verify";
    *from = in.Where("smtp_enforce_tls") + " = yes";
  } else if (std::optional<std::string> u = in.Value("smtp_use_tls"); u && IsYes(*u)) {
    level = "may";
    *from = in.Where("smtp_use_tls") + " = yes";
  }
  // An empty smtp_tls_security_level is Postfix's default too.
  if (level.empty()) level = "none", *from = "main.cf: no smtp_tls_security_level (none)";
  return level;
}

// The SHA-256 pins of the fingerprint level; Postfix's other digests are
// warned about, as relay cannot pin them.
void PostfixFingerprints(const MainCf& in, const std::string& level_from) {
  std::optional<std::string> fps = in.Value("smtp_tls_fingerprint_cert_match");
  const std::string where = in.Where("smtp_tls_fingerprint_cert_match");
  int pins = 0;
  if (fps) {
    for (std::string_view f : Words(*fps, " \t,")) {
      size_t digits = 0;
      std::string pin = Sha256Pin(f, &digits);
      if (!pin.empty()) {
        in.b.Set("tls_fingerprint", pin, where, where);
        ++pins;
      } else {
        in.b.Warn(where + ": " + DigestName(digits) + " fingerprint; relay pins SHA-256 only: add the "
                  "certificate's SHA-256 fingerprint to tls_fingerprint");
      }
    }
  }
  if (pins == 0)
    in.b.Warn(level_from + ": no SHA-256 pin carried over; relay verifies the certificate against the "
              "system's CAs until tls_fingerprint is set");
}

// The smarthosts' TLS mode for the level, with a warning wherever relay
// checks more, or less, than Postfix did.
TlsMode PostfixTlsMode(const MainCf& in, const std::string& level, const std::string& level_from, bool wrap) {
  TlsMode mode = TlsMode::kStartTls;
  if (level == "none") {
    mode = wrap ? TlsMode::kSmtps : TlsMode::kNone;
  } else if (level == "may") {
    mode = wrap ? TlsMode::kSmtps : TlsMode::kStartTls;
    if (!wrap)
      in.b.Warn(level_from + ": relay requires TLS: it uses STARTTLS and fails if the smarthost offers "
                "none; then set tls none on the smarthost line (only for a trusted network)");
  } else if (level == "encrypt") {
    in.b.Warn(level_from + ": Postfix did not verify the certificate; relay does (the system's CAs and "
              "the smarthost's name): if it is self-signed, set tls_ca_file or tls_fingerprint");
  } else if (level == "dane" || level == "dane-only") {
    in.b.Warn(level_from + ": relay does not use DANE; it verifies the certificate against the "
              "system's CAs and the smarthost's name (or tls_ca_file, or tls_fingerprint)");
  } else if (level == "fingerprint") {
    PostfixFingerprints(in, level_from);
  } else if (level != "verify" && level != "secure") {
    in.b.Warn(level_from + ": unknown level; relay uses STARTTLS and verifies the certificate");
  }
  if (wrap) mode = TlsMode::kSmtps;  // TLS from the first byte, whatever the level
  if (level == "none" && !wrap)
    in.b.Warn(level_from + ": mail went to the relayhost without TLS, and still will (tls none); set "
              "starttls or smtps if the server offers it");
  if (const PostfixParam* p = in.pf.Get("smtp_tls_policy_maps"))
    in.b.Warn(in.Where("smtp_tls_policy_maps") + " " + p->value + ": not read; relay has one TLS mode "
              "per smarthost, on its smarthost line");
  return mode;
}

// A smarthost line for each relay host, all with the one TLS mode.
Status PostfixAddHosts(const MainCf& in, const std::vector<RelayhostItem>& items, TlsMode mode, bool wrap,
                       const std::string& level_from) {
  bool any_host = false;
  for (const RelayhostItem& it : items) {
    std::string from = in.Where(it.param) + " = " + it.text;
    if (it.param == std::string("relayhost")) {
      from += wrap ? ", smtp_tls_wrappermode = yes" : "";
      from += ", " + level_from.substr(level_from.find(": ") + 2);
    }
    if (!it.bracketed)
      in.b.Warn(in.Where(it.param) + " " + it.text + ": without brackets Postfix looked up the MX records "
                "of " + it.host + "; relay connects to " + it.host + " itself and never looks up MX "
                "records: put the mail server's own name if that is not it");
    if (in.b.AddHost(it.host, it.port, mode, from, in.Where(it.param)))
      any_host = true;
  }
  if (!any_host) return Status::DataErr("main.cf: relayhost names no host relay can use");
  return Status::Ok();
}

// The CAs, the client certificate, and TLS 1.3 when Postfix refused 1.2.
void PostfixTlsFiles(const MainCf& in) {
  if (std::optional<std::string> v = in.Value("smtp_tls_CAfile"))
    SetCaFile(in.b, *v, in.Where("smtp_tls_CAfile"), in.Where("smtp_tls_CAfile"));
  if (std::optional<std::string> v = in.Value("smtp_tls_CApath"))
    SetCaDir(in.b, *v, in.Where("smtp_tls_CApath"), in.Where("smtp_tls_CApath"));
  if (std::optional<std::string> cert = in.Value("smtp_tls_cert_file"); cert && !cert->empty()) {
    std::optional<std::string> key = in.Value("smtp_tls_key_file");
    bool own_key = key && !key->empty();
    in.b.Set("tls_cert_file", *cert, in.Where("smtp_tls_cert_file"), in.Where("smtp_tls_cert_file"));
    in.b.Set("tls_key_file", own_key ? *key : *cert,
             own_key ? in.Where("smtp_tls_key_file")
                     : in.Where("smtp_tls_cert_file") + " (the key is in the same file)",
             in.Where("smtp_tls_key_file"));
  }
  for (const char* p : {"smtp_tls_mandatory_protocols", "smtp_tls_protocols"}) {
    std::optional<std::string> v = in.Value(p);
    if (v && (v->find("!TLSv1.2") != std::string::npos || v->find(">=TLSv1.3") != std::string::npos)) {
      in.b.Set("tls_min_version", "1.3", in.Where(p), in.Where(p));
      break;
    }
  }
}

// ---------------------------------------------------------------- the login

// Postfix looks up the server's name, then the next hop as written in
// relayhost.
const TableEntry* FindLogin(const std::vector<TableEntry>& entries, const RelayhostItem& it) {
  std::string host = ToLower(it.host), port = std::to_string(it.port);
  for (const std::string& k : {host, ToLower(it.text), "[" + host + "]:" + port, "[" + host + "]", host + ":" + port})
    for (const TableEntry& e : entries)
      if (e.key == k) return &e;
  return nullptr;
}

// The login from sasl_passwd. relay logs in to every smarthost with one
// user and password: the first relayhost's, and the others are warned of.
void PostfixLoginFromTable(const MainCf& in, const std::string& name, const std::vector<TableEntry>& entries,
                           const std::vector<RelayhostItem>& items) {
  bool sender_keys = false;
  for (const TableEntry& e : entries)
    if (e.key.find('@') != std::string::npos) sender_keys = true;
  std::optional<std::string> sda = in.Value("smtp_sender_dependent_authentication");
  if (sender_keys || (sda && IsYes(*sda)))
    in.b.Warn(name + ": per-sender logins (smtp_sender_dependent_authentication) are not "
              "supported by relay: it logs in with one user for all mail");
  Builder& b = in.b;
  bool first = true;
  for (const RelayhostItem& it : items) {
    const TableEntry* hit = FindLogin(entries, it);
    if (!hit) {
      b.Warn(name + ": no entry for " + it.text + "; " +
             (first ? "no login imported" : "relay logs in there with the first relayhost's user"));
      first = false;
      continue;
    }
    size_t colon = hit->value.find(':');
    std::string user = hit->value.substr(0, colon);
    std::string pass = colon == std::string::npos ? "" : hit->value.substr(colon + 1);
    std::string at = name + ":" + std::to_string(hit->line);
    if (b.auth_user.empty() && first) {
      b.auth_user = user;
      b.auth_from = at + " (" + hit->key + ")";
      b.secret = pass;
      b.secret_from = at;
    } else if (user != b.auth_user || pass != b.secret) {
      b.Warn(at + ": " + it.text + " has another login; relay logs in to every smarthost "
             "with one user and password, those of the first relayhost");
    }
    first = false;
  }
}

// The first table of smtp_sasl_password_maps: a static: login, or the
// text a file table is made from; other tables cannot be read here.
void PostfixPasswordMap(const MainCf& in, const std::string& maps, const std::vector<RelayhostItem>& items) {
  std::string where = in.Where("smtp_sasl_password_maps");
  std::vector<std::string_view> list = Words(maps, " \t,");
  if (list.size() > 1) in.b.Warn(where + ": only the first table, " + std::string(list[0]) + ", is read");
  std::string map(list[0]);
  std::string type = "hash", path = map;
  if (size_t colon = map.find(':'); colon != std::string::npos)
    type = map.substr(0, colon), path = map.substr(colon + 1);
  static const std::set<std::string> kFileTypes = {"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash"};
  if (type == "static") {
    size_t colon = path.find(':');
    in.b.auth_user = path.substr(0, colon);
    in.b.auth_from = where + " (static)";
    if (colon != std::string::npos) in.b.secret = path.substr(colon + 1), in.b.secret_from = in.b.auth_from;
    return;
  }
  if (!kFileTypes.count(type)) {
    in.b.Warn(where + ": a " + type + ": table cannot be read here; set auth_user and the password file "
              "by hand");
    return;
  }
  std::string name = BaseName(path);
  const std::string* table = FindFile(in.src, name);
  if (table) {
    PostfixLoginFromTable(in, name, ParseTable(*table), items);
  } else if (!in.src.unreadable.count(name)) {  // an unreadable one is warned of already
    in.b.Warn(where + ": " + path + " (the text the " + type + ": table is made from) not found; no "
              "login imported");
  }
}

// Postfix with the sasl-xoauth2 plugin: smtp_sasl_mechanism_filter names
// xoauth2 and the "password" in sasl_passwd is the plugin's token file,
// a path inside Postfix's chroot (/var/spool/postfix). To a smarthost
// relay has a preset for, relay keeps the token itself: the token file
// is offered for relayctl oauth import instead of becoming a password.
void PostfixSaslXoauth2(const MainCf& in, const std::string& filter, const std::vector<RelayhostItem>& items) {
  std::string oauth_mechs;  // the bearer ones: a token goes with no other
  for (std::string_view m : Words(filter, " \t,"))
    if (IsOAuthMechanism(m)) oauth_mechs += (oauth_mechs.empty() ? "" : ", ") + ToUpper(m);
  if (oauth_mechs.empty() || items.empty()) return;
  Builder& b = in.b;
  std::string token_file = !b.secret.empty() && b.secret.front() == '/' ? b.secret : "";
  std::string where = b.secret_from.empty() ? in.Where("smtp_sasl_password_maps") : b.secret_from;
  std::string provider = ProviderForHost(items[0].host);
  if (provider.empty()) {
    if (!token_file.empty()) {
      b.Warn(where + ": the password is sasl-xoauth2's token file " + token_file + ", and relay has no "
             "provider preset for " + items[0].host + ": not carried over; give relay the token with "
             "auth_password_command");
      b.secret.clear();
    }
    return;
  }
  b.Set("auth_mechanisms", oauth_mechs, in.Where("smtp_sasl_mechanism_filter") + " (its OAuth2 mechanisms)",
        in.Where("smtp_sasl_mechanism_filter"));
  b.provider = provider;
  b.provider_from = in.Where("smtp_sasl_mechanism_filter") + " = " + filter + " (sasl-xoauth2) to " + items[0].host;
  std::string file = token_file.empty() ? "TOKENFILE" : "/var/spool/postfix" + token_file;
  b.oauth_next = where + ": " + (token_file.empty() ? std::string("sasl-xoauth2's token file") : token_file) +
                 " (sasl-xoauth2's token file): not carried over: relay refreshes the OAuth2 token itself "
                 "(provider = " + provider + "); import it: relayctl oauth import --format sasl-xoauth2 "
                 "--sasl-xoauth2-conf /etc/sasl-xoauth2.conf " + file + " (the path inside Postfix's chroot; "
                 "without the chroot, " + (token_file.empty() ? "the path itself" : token_file) + ")";
  b.secret.clear();
}

// smtp_sasl_auth_enable: the login, and the mechanisms it may use.
void PostfixLogin(const MainCf& in, const std::vector<RelayhostItem>& items) {
  std::optional<std::string> sasl = in.Value("smtp_sasl_auth_enable");
  if (!sasl || !IsYes(*sasl)) return;
  std::optional<std::string> maps = in.Value("smtp_sasl_password_maps");
  if (!maps || Trim(*maps).empty())
    in.b.Warn(in.Where("smtp_sasl_auth_enable") + ": no smtp_sasl_password_maps; no login imported");
  else
    PostfixPasswordMap(in, *maps, items);
  if (std::optional<std::string> f = in.Value("smtp_sasl_mechanism_filter"); f && !Trim(*f).empty()) {
    std::string mechs;
    for (std::string_view m : Words(*f, " \t,")) mechs += (mechs.empty() ? "" : ", ") + ToUpper(m);
    in.b.Set("auth_mechanisms", mechs, in.Where("smtp_sasl_mechanism_filter"),
             in.Where("smtp_sasl_mechanism_filter"));
    PostfixSaslXoauth2(in, *f, items);
  }
}

// ---------------------------------------------------------------- names

// domain from myorigin, or from myhostname (its default); helo_name from
// smtp_helo_name, or from myhostname (its default).
void PostfixNames(const MainCf& in) {
  if (const PostfixParam* o = in.pf.Get("myorigin")) {
    std::string raw(Trim(o->value));
    if (!raw.empty() && raw.front() == '/') {
      if (raw == "/etc/mailname")
        in.b.Note("domain: not set, so relay takes it from /etc/mailname, as Postfix did (myorigin = "
                  "/etc/mailname)");
      else
        in.b.Warn(in.Where("myorigin") + " = " + raw + ": relay reads its domain from /etc/mailname or "
                  "the domain key: set domain to the name in " + raw);
    } else if (std::optional<std::string> v = in.pf.Expand(raw); v && !v->empty()) {
      in.b.Set("domain", *v, in.Where("myorigin") + " = " + raw, in.Where("myorigin"));
    } else {
      in.b.Warn(in.Where("myorigin") + " = " + raw + ": its value depends on this host's name, unknown "
                "here; relay's default domain is /etc/mailname, else the host's name");
    }
  } else if (const PostfixParam* h = in.pf.Get("myhostname")) {
    if (std::optional<std::string> v = in.pf.Expand(h->value); v && !v->empty())
      in.b.Set("domain", *v, in.Where("myhostname") + " (Postfix's default myorigin)", in.Where("myhostname"));
  }
  std::string helo_param = in.pf.Get("smtp_helo_name") ? "smtp_helo_name" : "myhostname";
  if (in.pf.Get(helo_param)) {
    if (std::optional<std::string> v = in.Value(helo_param); v && !v->empty())
      in.b.Set("helo_name", *v, in.Where(helo_param), in.Where(helo_param));
  }
}

// ---------------------------------------------------------------- limits, times and aliases

// The limits and times that relay has too, under its own names.
void PostfixLimits(const MainCf& in) {
  struct Map {
    const char* postfix;
    const char* relay;
  };
  for (Map m : {Map{"maximal_queue_lifetime", "queue_lifetime"}, Map{"minimal_backoff_time", "retry_min"},
                Map{"maximal_backoff_time", "retry_max"}, Map{"smtp_connect_timeout", "timeout_connect"},
                Map{"smtp_data_init_timeout", "timeout_data_init"},
                Map{"smtp_data_xfer_timeout", "timeout_data_block"},
                Map{"smtp_data_done_timeout", "timeout_data_done"},
                Map{"message_size_limit", "message_size_limit"},
                Map{"delay_warning_time", "delay_warning_time"}}) {
    if (std::optional<std::string> v = in.Value(m.postfix))
      in.b.Set(m.relay, *v, in.Where(m.postfix), in.Where(m.postfix));
  }
}

// alias_maps: relay reads one aliases(5) text file.
void PostfixAliases(const MainCf& in) {
  std::optional<std::string> v = in.Value("alias_maps");
  if (!v) return;
  std::string where = in.Where("alias_maps");
  std::vector<std::string> files;
  for (std::string_view m : Words(*v, " \t,")) {
    size_t colon = m.find(':');
    std::string type(colon == std::string_view::npos ? "hash" : m.substr(0, colon));
    std::string path(colon == std::string_view::npos ? m : m.substr(colon + 1));
    if (type == "nis" || type == "netinfo") continue;  // Postfix's default list ends in nis:mail.aliases
    if (type != "hash" && type != "btree" && type != "lmdb" && type != "cdb" && type != "dbm") {
      in.b.Warn(where + ": " + std::string(m) + ": relay reads one aliases(5) text file; not carried over");
      continue;
    }
    files.push_back(path);
  }
  if (!files.empty() && files[0] != "/etc/aliases") in.b.Set("aliases", files[0], where, where);
  for (size_t i = 1; i < files.size(); ++i)
    in.b.Warn(where + ": " + files[i] + ": relay reads one aliases file; merge it into " + files[0]);
}

// ---------------------------------------------------------------- leftovers

// Mail that Postfix took in or kept on this host: relay does neither.
void PostfixLocalMail(const MainCf& in) {
  if (std::optional<std::string> v = in.Value("mydestination"); v && !Trim(*v).empty())
    in.b.Warn(in.Where("mydestination") + " = " + Printable(*v) + ": relay delivers no mail on this host; "
              "mail to local names goes through the aliases file to the smarthost (user@domain)");
  if (std::optional<std::string> v = in.Value("inet_interfaces");
      v && !EqualsIgnoreCase(Trim(*v), "loopback-only") && !EqualsIgnoreCase(Trim(*v), "localhost") &&
      !EqualsIgnoreCase(Trim(*v), "127.0.0.1"))
    in.b.Warn(in.Where("inet_interfaces") + " = " + Printable(*v) + ": relay takes mail only from sendmail "
              "(and, with listen, on loopback), never from the network");
}

// A warning for each setting not carried over; those relay has no need
// for share one, so that a stock main.cf does not bury the others.
void PostfixLeftovers(const MainCf& in) {
  std::string ignored;
  for (const auto& [name, p] : in.pf.params) {
    std::string where = "main.cf:" + std::to_string(p.line) + ": " + name;
    if (const char* why = PostfixUnsupported(name))
      in.b.Warn(where + ": " + why + "; not carried over");
    else if (PostfixHandled(name))
      continue;
    else if (PostfixIrrelevant(name))
      ignored += (ignored.empty() ? "" : ", ") + name;
    else
      in.b.Warn(where + ": no equivalent in relay; not carried over");
  }
  if (!ignored.empty())
    in.b.Warn("main.cf: " + ignored + ": settings of Postfix's SMTP server, local delivery and "
              "housekeeping, which relay has no need for; not carried over");
}

}  // namespace

Status ImportPostfix(const ImportSource& src, Builder& b) {
  const std::string* text = nullptr;
  Status s = MainFileText(src, "main.cf", &text);
  if (!s.ok()) return s;
  PostfixConf pf(*text);
  for (int ln : pf.bad_lines) b.Warn("main.cf:" + std::to_string(ln) + ": not 'name = value'; ignored");
  const MainCf in{src, pf, b};

  std::vector<RelayhostItem> items;
  s = PostfixRelayhosts(in, &items);
  if (!s.ok()) return s;
  std::string level_from;
  std::string level = PostfixTlsLevel(in, &level_from);
  std::optional<std::string> wrapper = in.Value("smtp_tls_wrappermode");
  bool wrap = wrapper && IsYes(*wrapper);
  TlsMode mode = PostfixTlsMode(in, level, level_from, wrap);
  s = PostfixAddHosts(in, items, mode, wrap, level_from);
  if (!s.ok()) return s;
  PostfixTlsFiles(in);

  PostfixLogin(in, items);
  PostfixNames(in);
  PostfixLimits(in);
  PostfixAliases(in);
  PostfixLocalMail(in);
  PostfixLeftovers(in);
  return Status::Ok();
}

}  // namespace relay::import_internal
