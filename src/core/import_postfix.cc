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

#include "relay/config.h"
#include "relay/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- Postfix

namespace {

// The settings a null client's main.cf carries that relay needs no
// equivalent for: Postfix's SMTP server, local delivery, housekeeping.
bool PostfixIrrelevant(const std::string& name) {
  static const std::set<std::string> kNames = {
      "biff", "append_dot_mydomain", "readme_directory", "html_directory", "compatibility_level",
      "mailbox_size_limit", "mailbox_command", "home_mailbox", "recipient_delimiter", "inet_protocols",
      "mynetworks", "mynetworks_style", "alias_database", "delay_warning_time", "setgid_group",
      "mail_owner", "default_privs", "sendmail_path", "newaliases_path", "mailq_path",
      "manpage_directory", "sample_directory", "meta_directory", "shlib_directory", "queue_directory",
      "command_directory", "daemon_directory", "data_directory", "maillog_file", "smtp_tls_loglevel",
      "smtp_sasl_security_options", "smtp_sasl_tls_security_options", "smtp_tls_note_starttls_offer",
      "tls_random_source", "smtp_tls_mandatory_ciphers", "smtp_tls_ciphers",
      "smtp_tls_exclude_ciphers", "smtp_tls_session_cache_database", "smtp_tls_session_cache_timeout",
      "disable_vrfy_command", "unknown_local_recipient_reject_code", "debug_peer_level",
      "debugger_command", "local_recipient_maps", "local_transport", "myorigin", "mydomain",
      "myhostname", "smtp_tls_mandatory_exclude_ciphers", "tls_preempt_cipherlist",
      "smtp_tls_connection_reuse", "smtp_address_preference", "smtp_dns_support_level",
      "mydestination", "inet_interfaces", "smtp_tls_security_level", "smtp_tls_wrappermode",
      "smtp_tls_CAfile", "smtp_tls_CApath", "smtp_tls_cert_file", "smtp_tls_key_file",
      "smtp_tls_fingerprint_digest", "smtp_tls_fingerprint_cert_match", "smtp_sasl_auth_enable",
      "smtp_sasl_password_maps", "smtp_sasl_mechanism_filter", "relayhost", "smtp_fallback_relay",
      "fallback_relay", "smtp_helo_name", "message_size_limit", "maximal_queue_lifetime",
      "minimal_backoff_time", "maximal_backoff_time", "smtp_connect_timeout", "smtp_data_init_timeout",
      "smtp_data_xfer_timeout", "smtp_data_done_timeout", "alias_maps", "smtp_use_tls",
      "smtp_enforce_tls", "smtp_tls_enforce_peername", "smtp_tls_protocols",
      "smtp_tls_mandatory_protocols", "smtp_tls_policy_maps", "smtp_sender_dependent_authentication"};
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

// A Postfix lookup table source: "key value" lines, '#' comments, lines
// that start with blanks continue the one before. Keys in lower case.
std::vector<std::pair<std::string, std::pair<std::string, int>>> ParseTable(const std::string& text) {
  std::vector<std::pair<std::string, std::pair<std::string, int>>> out;
  int n = 0;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    if ((raw.front() == ' ' || raw.front() == '\t') && !out.empty()) {
      out.back().second.first += " " + std::string(t);
      continue;
    }
    auto [key, value] = FirstWord(t);
    out.push_back({ToLower(key), {std::string(value), n}});
  }
  return out;
}

}  // namespace

Status ImportPostfix(const ImportSource& src, Builder& b) {
  const std::string* text = FindFile(src, "main.cf");
  if (!text) return Status::DataErr("no main.cf to import");
  if (!HasSettings(*text)) return Status::DataErr("main.cf is empty: no settings to import");
  PostfixConf pf(*text);
  for (int ln : pf.bad_lines) b.Warn("main.cf:" + std::to_string(ln) + ": not 'name = value'; ignored");
  auto where = [&](const std::string& name) {
    const PostfixParam* p = pf.Get(name);
    return "main.cf:" + std::to_string(p ? p->line : 0) + ": " + name;
  };
  auto value = [&](const std::string& name) -> std::optional<std::string> {
    const PostfixParam* p = pf.Get(name);
    if (!p) return std::nullopt;
    std::optional<std::string> v = pf.Expand(p->value);
    if (!v) b.Warn(where(name) + ": '" + Printable(p->value) + "' names a parameter whose value is "
                   "not in main.cf; not carried over");
    return v;
  };

  // Relay hosts.
  std::optional<std::string> relayhost = value("relayhost");
  if (pf.Get("relayhost") && !relayhost)
    return Status::DataErr(where("relayhost") + " = " + pf.Get("relayhost")->value + ": names a "
                           "parameter whose value is not in main.cf; set relayhost to the host itself");
  if (!relayhost || Trim(*relayhost).empty())
    return Status::DataErr("main.cf has no relayhost: Postfix delivered straight to the recipients' "
                           "MX hosts, which relay never does; nothing to import");
  std::vector<std::pair<RelayhostItem, std::string>> items;  // with the setting they came from
  for (const char* param : {"relayhost", "smtp_fallback_relay", "fallback_relay"}) {
    std::optional<std::string> v = param == std::string("relayhost") ? relayhost : value(param);
    if (!v) continue;
    for (std::string_view w : Words(*v, " \t,")) {
      RelayhostItem it;
      if (!ParseRelayhost(w, &it))
        return Status::DataErr(where(param) + ": '" + std::string(w) + "' is not [host]:port");
      items.push_back({it, param});
    }
  }

  // TLS.
  std::string level;
  std::string level_from;
  if (std::optional<std::string> v = value("smtp_tls_security_level")) {
    level = ToLower(Trim(*v));
    level_from = where("smtp_tls_security_level") + " = " + level;
  } else if (std::optional<std::string> e = value("smtp_enforce_tls"); e && IsYes(*e)) {
    std::optional<std::string> peer = value("smtp_tls_enforce_peername");
    level = peer && IsNo(*peer) ? "encrypt" : "verify";
    level_from = where("smtp_enforce_tls") + " = yes";
  } else if (std::optional<std::string> u = value("smtp_use_tls"); u && IsYes(*u)) {
    level = "may";
    level_from = where("smtp_use_tls") + " = yes";
  }
  if (level.empty()) level = "none", level_from = "main.cf: no smtp_tls_security_level (none)";
  std::optional<std::string> wrapper = value("smtp_tls_wrappermode");
  bool wrap = wrapper && IsYes(*wrapper);
  TlsMode mode = TlsMode::kStartTls;
  if (level == "none") {
    mode = wrap ? TlsMode::kSmtps : TlsMode::kNone;
  } else if (level == "may") {
    mode = wrap ? TlsMode::kSmtps : TlsMode::kStartTls;
    if (!wrap)
      b.Warn(level_from + ": relay requires TLS: it uses STARTTLS and fails if the smarthost offers "
             "none; then set tls none on the smarthost line (only for a trusted network)");
  } else if (level == "encrypt") {
    b.Warn(level_from + ": Postfix did not verify the certificate; relay does (the system's CAs and "
           "the smarthost's name): if it is self-signed, set tls_ca_file or tls_fingerprint");
  } else if (level == "dane" || level == "dane-only") {
    b.Warn(level_from + ": relay does not use DANE; it verifies the certificate against the "
           "system's CAs and the smarthost's name (or tls_ca_file, or tls_fingerprint)");
  } else if (level == "fingerprint") {
    std::optional<std::string> fps = value("smtp_tls_fingerprint_cert_match");
    int pins = 0;
    if (fps) {
      for (std::string_view f : Words(*fps, " \t,")) {
        size_t digits = 0;
        std::string pin = Sha256Pin(f, &digits);
        if (!pin.empty()) {
          b.Set("tls_fingerprint", pin, where("smtp_tls_fingerprint_cert_match"),
                where("smtp_tls_fingerprint_cert_match"));
          ++pins;
        } else {
          b.Warn(where("smtp_tls_fingerprint_cert_match") + ": " + DigestName(digits) +
                 " fingerprint; relay pins SHA-256 only: add the certificate's SHA-256 fingerprint to "
                 "tls_fingerprint");
        }
      }
    }
    if (pins == 0)
      b.Warn(level_from + ": no SHA-256 pin carried over; relay verifies the certificate against the "
             "system's CAs until tls_fingerprint is set");
  } else if (level != "verify" && level != "secure") {
    b.Warn(level_from + ": unknown level; relay uses STARTTLS and verifies the certificate");
  }
  if (wrap) mode = TlsMode::kSmtps;  // TLS from the first byte, whatever the level
  if (level == "none" && !wrap)
    b.Warn(level_from + ": mail went to the relayhost without TLS, and still will (tls none); set "
           "starttls or smtps if the server offers it");
  if (const PostfixParam* p = pf.Get("smtp_tls_policy_maps"))
    b.Warn(where("smtp_tls_policy_maps") + " " + p->value + ": not read; relay has one TLS mode per "
           "smarthost, on its smarthost line");

  bool any_host = false;
  for (auto& [it, param] : items) {
    std::string from = where(param) + " = " + it.text;
    if (param == "relayhost") {
      from += wrap ? ", smtp_tls_wrappermode = yes" : "";
      from += ", " + level_from.substr(level_from.find(": ") + 2);
    }
    if (!it.bracketed)
      b.Warn(where(param) + " " + it.text + ": without brackets Postfix looked up the MX records of " +
             it.host + "; relay connects to " + it.host + " itself and never looks up MX records: "
             "put the mail server's own name if that is not it");
    if (b.AddHost(it.host, it.port, mode, from, where(param))) any_host = true;
  }
  if (!any_host) return Status::DataErr("main.cf: relayhost names no host relay can use");

  if (std::optional<std::string> v = value("smtp_tls_CAfile"))
    SetCaFile(b, *v, where("smtp_tls_CAfile"), where("smtp_tls_CAfile"));
  if (std::optional<std::string> v = value("smtp_tls_CApath"))
    SetCaDir(b, *v, where("smtp_tls_CApath"), where("smtp_tls_CApath"));
  if (std::optional<std::string> cert = value("smtp_tls_cert_file"); cert && !cert->empty()) {
    std::optional<std::string> key = value("smtp_tls_key_file");
    bool own_key = key && !key->empty();
    b.Set("tls_cert_file", *cert, where("smtp_tls_cert_file"), where("smtp_tls_cert_file"));
    b.Set("tls_key_file", own_key ? *key : *cert,
          own_key ? where("smtp_tls_key_file") : where("smtp_tls_cert_file") + " (the key is in the same file)",
          where("smtp_tls_key_file"));
  }
  for (const char* p : {"smtp_tls_mandatory_protocols", "smtp_tls_protocols"}) {
    std::optional<std::string> v = value(p);
    if (v && (v->find("!TLSv1.2") != std::string::npos || v->find(">=TLSv1.3") != std::string::npos)) {
      b.Set("tls_min_version", "1.3", where(p), where(p));
      break;
    }
  }

  // The login.
  std::optional<std::string> sasl = value("smtp_sasl_auth_enable");
  if (sasl && IsYes(*sasl)) {
    std::optional<std::string> maps = value("smtp_sasl_password_maps");
    if (!maps || Trim(*maps).empty()) {
      b.Warn(where("smtp_sasl_auth_enable") + ": no smtp_sasl_password_maps; no login imported");
    } else {
      std::vector<std::string_view> list = Words(*maps, " \t,");
      if (list.size() > 1)
        b.Warn(where("smtp_sasl_password_maps") + ": only the first table, " + std::string(list[0]) +
               ", is read");
      std::string map(list[0]);
      std::string type = "hash", path = map;
      if (size_t colon = map.find(':'); colon != std::string::npos)
        type = map.substr(0, colon), path = map.substr(colon + 1);
      static const std::set<std::string> kFileTypes = {"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash"};
      if (type == "static") {
        size_t colon = path.find(':');
        b.auth_user = path.substr(0, colon);
        b.auth_from = where("smtp_sasl_password_maps") + " (static)";
        if (colon != std::string::npos) b.secret = path.substr(colon + 1), b.secret_from = b.auth_from;
      } else if (!kFileTypes.count(type)) {
        b.Warn(where("smtp_sasl_password_maps") + ": a " + type + ": table cannot be read here; set "
               "auth_user and the password file by hand");
      } else {
        std::string name = BaseName(path);
        const std::string* table = FindFile(src, name);
        if (!table) {
          if (!src.unreadable.count(name))
            b.Warn(where("smtp_sasl_password_maps") + ": " + path + " (the text the " + type +
                   ": table is made from) not found; no login imported");
        } else {
          std::vector<std::pair<std::string, std::pair<std::string, int>>> entries = ParseTable(*table);
          bool sender_keys = false;
          for (const auto& e : entries)
            if (e.first.find('@') != std::string::npos) sender_keys = true;
          std::optional<std::string> sda = value("smtp_sender_dependent_authentication");
          if (sender_keys || (sda && IsYes(*sda)))
            b.Warn(name + ": per-sender logins (smtp_sender_dependent_authentication) are not "
                   "supported by relay: it logs in with one user for all mail");
          // Postfix looks up the server's name, then the next hop as
          // written in relayhost.
          bool first = true;
          for (const auto& [it, param] : items) {
            std::vector<std::string> keys = {
                ToLower(it.host), ToLower(it.text), "[" + ToLower(it.host) + "]:" + std::to_string(it.port),
                "[" + ToLower(it.host) + "]", ToLower(it.host) + ":" + std::to_string(it.port)};
            const std::pair<std::string, std::pair<std::string, int>>* hit = nullptr;
            for (const std::string& k : keys) {
              for (const auto& e : entries)
                if (e.first == k) {
                  hit = &e;
                  break;
                }
              if (hit) break;
            }
            if (!hit) {
              b.Warn(name + ": no entry for " + it.text + "; " +
                     (first ? "no login imported" : "relay logs in there with the first relayhost's user"));
              first = false;
              continue;
            }
            const std::string& cred = hit->second.first;
            size_t colon = cred.find(':');
            std::string user = cred.substr(0, colon);
            std::string pass = colon == std::string::npos ? "" : cred.substr(colon + 1);
            std::string at = name + ":" + std::to_string(hit->second.second);
            if (b.auth_user.empty() && first) {
              b.auth_user = user;
              b.auth_from = at + " (" + hit->first + ")";
              b.secret = pass;
              b.secret_from = at;
            } else if (user != b.auth_user || pass != b.secret) {
              b.Warn(at + ": " + it.text + " has another login; relay logs in to every smarthost "
                     "with one user and password, those of the first relayhost");
            }
            first = false;
          }
        }
      }
    }
    if (std::optional<std::string> f = value("smtp_sasl_mechanism_filter"); f && !Trim(*f).empty()) {
      std::string mechs;
      for (std::string_view m : Words(*f, " \t,")) mechs += (mechs.empty() ? "" : ", ") + ToUpper(m);
      b.Set("auth_mechanisms", mechs, where("smtp_sasl_mechanism_filter"), where("smtp_sasl_mechanism_filter"));
    }
  }

  // Names.
  if (const PostfixParam* o = pf.Get("myorigin")) {
    std::string raw(Trim(o->value));
    if (!raw.empty() && raw.front() == '/') {
      if (raw == "/etc/mailname")
        b.Note("domain: not set, so relay takes it from /etc/mailname, as Postfix did (myorigin = /etc/mailname)");
      else
        b.Warn(where("myorigin") + " = " + raw + ": relay reads its domain from /etc/mailname or "
               "the domain key: set domain to the name in " + raw);
    } else if (std::optional<std::string> v = pf.Expand(raw); v && !v->empty()) {
      b.Set("domain", *v, where("myorigin") + " = " + raw, where("myorigin"));
    } else {
      b.Warn(where("myorigin") + " = " + raw + ": its value depends on this host's name, unknown "
             "here; relay's default domain is /etc/mailname, else the host's name");
    }
  } else if (const PostfixParam* h = pf.Get("myhostname")) {
    if (std::optional<std::string> v = pf.Expand(h->value); v && !v->empty())
      b.Set("domain", *v, where("myhostname") + " (Postfix's default myorigin)", where("myhostname"));
  }
  std::string helo_param = pf.Get("smtp_helo_name") ? "smtp_helo_name" : "myhostname";
  if (pf.Get(helo_param)) {
    if (std::optional<std::string> v = value(helo_param); v && !v->empty())
      b.Set("helo_name", *v, where(helo_param), where(helo_param));
  }

  // Limits and times that relay has too.
  struct Map {
    const char* postfix;
    const char* relay;
  };
  for (Map m : {Map{"maximal_queue_lifetime", "queue_lifetime"}, Map{"minimal_backoff_time", "retry_min"},
                Map{"maximal_backoff_time", "retry_max"}, Map{"smtp_connect_timeout", "timeout_connect"},
                Map{"smtp_data_init_timeout", "timeout_data_init"},
                Map{"smtp_data_xfer_timeout", "timeout_data_block"},
                Map{"smtp_data_done_timeout", "timeout_data_done"}}) {
    if (std::optional<std::string> v = value(m.postfix)) b.Set(m.relay, *v, where(m.postfix), where(m.postfix));
  }
  if (std::optional<std::string> v = value("message_size_limit"))
    b.Set("message_size_limit", *v, where("message_size_limit"), where("message_size_limit"));
  if (std::optional<std::string> v = value("alias_maps")) {
    std::vector<std::string_view> maps = Words(*v, " \t,");
    std::vector<std::string> files;
    for (std::string_view m : maps) {
      size_t colon = m.find(':');
      std::string type(colon == std::string_view::npos ? "hash" : m.substr(0, colon));
      std::string path(colon == std::string_view::npos ? m : m.substr(colon + 1));
      if (type == "nis" || type == "netinfo") continue;  // Postfix's default list ends in nis:mail.aliases
      if (type != "hash" && type != "btree" && type != "lmdb" && type != "cdb" && type != "dbm") {
        b.Warn(where("alias_maps") + ": " + std::string(m) + ": relay reads one aliases(5) text file; not carried over");
        continue;
      }
      files.push_back(path);
    }
    if (!files.empty() && files[0] != "/etc/aliases")
      b.Set("aliases", files[0], where("alias_maps"), where("alias_maps"));
    for (size_t i = 1; i < files.size(); ++i)
      b.Warn(where("alias_maps") + ": " + files[i] + ": relay reads one aliases file; merge it into " + files[0]);
  }
  if (std::optional<std::string> v = value("mydestination"); v && !Trim(*v).empty())
    b.Warn(where("mydestination") + " = " + Printable(*v) + ": relay delivers no mail on this host; "
           "mail to local names goes through the aliases file to the smarthost (user@domain)");
  if (std::optional<std::string> v = value("inet_interfaces");
      v && !EqualsIgnoreCase(Trim(*v), "loopback-only") && !EqualsIgnoreCase(Trim(*v), "localhost") &&
      !EqualsIgnoreCase(Trim(*v), "127.0.0.1"))
    b.Warn(where("inet_interfaces") + " = " + Printable(*v) + ": relay takes mail only from sendmail "
           "(and, with listen, on loopback), never from the network");

  std::vector<std::string> ignored;
  for (const auto& [name, p] : pf.params) {
    if (const char* why = PostfixUnsupported(name)) {
      b.Warn("main.cf:" + std::to_string(p.line) + ": " + name + ": " + why + "; not carried over");
    } else if (PostfixIrrelevant(name)) {
      static const std::set<std::string> kHandled = {
          "myorigin", "mydomain", "myhostname", "mydestination", "inet_interfaces",
          "smtp_tls_security_level", "smtp_tls_wrappermode", "smtp_tls_CAfile", "smtp_tls_CApath",
          "smtp_tls_cert_file", "smtp_tls_key_file", "smtp_tls_fingerprint_digest",
          "smtp_tls_fingerprint_cert_match", "smtp_sasl_auth_enable", "smtp_sasl_password_maps",
          "smtp_sasl_mechanism_filter", "relayhost", "smtp_fallback_relay", "fallback_relay",
          "smtp_helo_name", "message_size_limit", "maximal_queue_lifetime", "minimal_backoff_time",
          "maximal_backoff_time", "smtp_connect_timeout", "smtp_data_init_timeout",
          "smtp_data_xfer_timeout", "smtp_data_done_timeout", "alias_maps", "smtp_use_tls",
          "smtp_enforce_tls", "smtp_tls_enforce_peername", "smtp_tls_protocols",
          "smtp_tls_mandatory_protocols", "smtp_tls_policy_maps", "smtp_sender_dependent_authentication",
          "alias_database"};
      if (!kHandled.count(name)) ignored.push_back(name);
    } else {
      b.Warn("main.cf:" + std::to_string(p.line) + ": " + name + ": no equivalent in relay; not carried over");
    }
  }
  if (!ignored.empty()) {
    std::string list;
    for (const std::string& n : ignored) list += (list.empty() ? "" : ", ") + n;
    b.Warn("main.cf: " + list + ": settings of Postfix's SMTP server, local delivery and "
           "housekeeping, which relay has no need for; not carried over");
  }
  return Status::Ok();
}

}  // namespace relay::import_internal
