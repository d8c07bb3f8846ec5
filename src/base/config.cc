#include "relay/base/config.h"

#include <netinet/in.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <functional>
#include <map>

#include "relay/base/network.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

Status BadValue(std::string_view why) { return Status::Config(std::string(why)); }

bool ParseSize(std::string_view s, uint64_t* v) {
  uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k': case 'K': mult = 1024; break;
      case 'm': case 'M': mult = 1024 * 1024; break;
      case 'g': case 'G': mult = 1024ull * 1024 * 1024; break;
      default: break;
    }
    if (mult != 1) s.remove_suffix(1);
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  if (*v > UINT64_MAX / mult) return false;  // overflow
  *v *= mult;
  return true;
}

bool ValidHostName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return h.front() != '-' && h.front() != '.';
}

bool ValidIpv6(std::string_view h) {
  if (h.size() < 2 || h.size() > 45) return false;
  for (char c : h) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.';
    if (!ok) return false;
  }
  return h.find(':') != std::string_view::npos;
}

Status ParseOneSmarthost(std::string_view item, Smarthost* h) {
  item = Trim(item);
  std::string_view addr = item;
  size_t sp = item.find_first_of(" \t");
  if (sp != std::string_view::npos) {
    addr = item.substr(0, sp);
    std::string_view mode = Trim(item.substr(sp));
    if (!ParseTlsMode(mode, &h->tls))
      return BadValue("unknown TLS mode '" + std::string(mode) +
                      "' (use starttls, smtps or none)");
    h->tls_set = true;
  }
  std::string_view port;
  if (!addr.empty() && addr.front() == '[') {
    size_t close = addr.find(']');
    if (close == std::string_view::npos) return BadValue("unclosed '[' in smarthost");
    h->host = addr.substr(1, close - 1);
    if (!ValidIpv6(h->host)) return BadValue("bad IPv6 address '" + h->host + "'");
    std::string_view rest = addr.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return BadValue("junk after ']' in smarthost");
      port = rest.substr(1);
      if (port.empty()) return BadValue("empty port in smarthost");
    }
  } else {
    size_t colon = addr.rfind(':');
    if (colon != std::string_view::npos) {
      if (addr.find(':') != colon)
        return BadValue("IPv6 smarthost must be written in brackets, e.g. [::1]:25");
      port = addr.substr(colon + 1);
      if (port.empty()) return BadValue("empty port in smarthost");
      addr = addr.substr(0, colon);
    }
    h->host = addr;
    if (!ValidHostName(h->host)) return BadValue("bad host name '" + h->host + "'");
  }
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
      return BadValue("bad port '" + std::string(port) + "'");
    h->port = static_cast<uint16_t>(v);
  }
  return Status::Ok();
}

using Setter = std::function<Status(std::string_view, Config*)>;

Setter Duration(int64_t Config::*field, int64_t min_seconds, int64_t max_seconds = 10LL * 365 * 86400) {
  return [field, min_seconds, max_seconds](std::string_view v, Config* c) {
    int64_t secs = 0;
    if (!ParseDuration(v, &secs) || secs < min_seconds)
      return BadValue("bad duration '" + std::string(v) + "' (e.g. 30s, 5m, 1h, 5d)");
    if (secs > max_seconds)
      return BadValue("duration '" + std::string(v) + "' is too long (at most " +
                      std::to_string(max_seconds / 86400) + (max_seconds == 86400 ? " day)" : " days)"));
    c->*field = secs;
    return Status::Ok();
  };
}

Setter Count(int Config::*field, int min, int max) {
  return [field, min, max](std::string_view v, Config* c) {
    int n = 0;
    if (v.front() < '0' || v.front() > '9') return BadValue("must be a number from " + std::to_string(min) + " to " + std::to_string(max));
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max)
      return BadValue("must be a number from " + std::to_string(min) + " to " + std::to_string(max));
    c->*field = n;
    return Status::Ok();
  };
}

Setter FilePath(std::string Config::*field) {
  return [field](std::string_view v, Config* c) {
    if (v.front() != '/') return BadValue("must be an absolute path");
    c->*field = v;
    return Status::Ok();
  };
}

// A host or domain name; what names it in the error ("domain", "host name").
Setter HostName(std::string Config::*field, const char* what) {
  return [field, what](std::string_view v, Config* c) {
    if (!ValidHostName(v)) return BadValue("bad " + std::string(what) + " '" + std::string(v) + "'");
    c->*field = v;
    return Status::Ok();
  };
}

// Free text, taken as written (the rest of the line, trimmed).
Setter Text(std::string Config::*field) {
  return [field](std::string_view v, Config* c) {
    c->*field = v;
    return Status::Ok();
  };
}

// A byte count, with K, M or G (powers of 1024).
Setter Size(uint64_t Config::*field) {
  return [field](std::string_view v, Config* c) {
    if (!ParseSize(v, &(c->*field)))
      return BadValue("bad size '" + std::string(v) + "' (a number of bytes, or with K, M or G)");
    return Status::Ok();
  };
}

bool IsHex(std::string_view s) {
  for (char ch : s)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) return false;
  return true;
}

Setter YesNo(bool Config::*field) {
  return [field](std::string_view v, Config* c) {
    if (v != "yes" && v != "no") return BadValue("must be yes or no");
    c->*field = v == "yes";
    return Status::Ok();
  };
}

// A certificate fingerprint; repeating the key adds pins.
Setter Pin(std::vector<std::string> Config::*field) {
  return [field](std::string_view v, Config* c) {
    std::string pin = ToLower(v);
    std::string hex;
    if (pin.substr(0, 7) == "sha256:") {
      for (char ch : pin.substr(7))
        if (ch != ':') hex += ch;
    }
    if (hex.size() != 64 || !IsHex(hex)) return BadValue("expected sha256: and 64 hex digits (colons allowed)");
    (c->*field).push_back("sha256:" + hex);
    return Status::Ok();
  };
}

Status SetPath(std::string_view v, std::string* field, std::string_view key) {
  if (v.front() != '/') return BadValue(std::string(key) + " must be an absolute path");
  *field = v;
  return Status::Ok();
}

const std::map<std::string, Setter, std::less<>>& Setters() {
  static const auto* setters = new std::map<std::string, Setter, std::less<>>{
      {"spool_dir", [](std::string_view v, Config* c) { return SetPath(v, &c->spool_dir, "spool_dir"); }},
      {"aliases", [](std::string_view v, Config* c) { return SetPath(v, &c->aliases, "aliases"); }},
      {"domain", HostName(&Config::domain, "domain")},
      {"smarthost",
       [](std::string_view v, Config* c) {
         // Repeating the key adds hosts, in order.
         return ParseSmarthosts(v, &c->smarthosts);
       }},
      {"tls",
       [](std::string_view v, Config* c) {
         if (!ParseTlsMode(v, &c->tls))
           return BadValue("unknown TLS mode '" + std::string(v) + "' (use starttls, smtps or none)");
         return Status::Ok();
       }},
      {"tls_ca_file", FilePath(&Config::tls_ca_file)},
      {"tls_ca_dir", FilePath(&Config::tls_ca_dir)},
      {"tls_cert_file", FilePath(&Config::tls_cert_file)},
      {"tls_key_file", FilePath(&Config::tls_key_file)},
      {"tls_fingerprint", Pin(&Config::tls_fingerprints)},
      {"tls_min_version",
       [](std::string_view v, Config* c) {
         if (v != "1.2" && v != "1.3") return BadValue("must be 1.2 or 1.3");
         c->tls_min_version = v;
         return Status::Ok();
       }},
      {"helo_name", HostName(&Config::helo_name, "host name")},
      {"auth_user", Text(&Config::auth_user)},
      {"auth_password_file",
       [](std::string_view v, Config* c) {
         // %d/NAME: a systemd credential, expanded where the secret is
         // read (relay-deliver, relayd, relayctl), never by sendmail.
         if (v.substr(0, 3) == "%d/") {
           std::string_view name = v.substr(3);
           if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
             return BadValue("%d/ must be followed by a credential's name, with no '/'");
           c->auth_password_file = v;
           return Status::Ok();
         }
         return FilePath(&Config::auth_password_file)(v, c);
       }},
      {"auth_password_command", Text(&Config::auth_password_command)},
      {"auth_mechanisms",
       [](std::string_view v, Config* c) {
         c->auth_mechanisms.clear();
         std::string list(v);
         for (char& ch : list) ch = ch == ',' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
         for (std::string_view m : Split(list, ' '))
           if (!m.empty()) c->auth_mechanisms.emplace_back(m);
         if (c->auth_mechanisms.empty()) return BadValue("empty mechanism list");
         return Status::Ok();
       }},
      {"auth_without_tls", YesNo(&Config::auth_without_tls)},
      {"listen",
       [](std::string_view v, Config* c) {
         for (std::string_view item : Split(v, ',')) {
           std::string a(Trim(item));
           if (a.empty()) continue;
           // "ADDRESS [starttls|smtps]", as a smarthost names its mode.
           ListenAddress la;
           size_t sp = a.find_first_of(" \t");
           if (sp != std::string::npos) {
             std::string_view mode = Trim(std::string_view(a).substr(sp));
             if (!ParseTlsMode(mode, &la.tls) || la.tls == TlsMode::kNone)
               return BadValue("unknown listener TLS mode '" + std::string(mode) + "' (use starttls or smtps)");
             la.tls_set = true;
             a.resize(sp);
           }
           // Parsed as numbers: "127.1" or "127.example.com" must not
           // slip through as loopback and bind something else. Whether a
           // non-loopback address may be used is decided once listen_allow
           // is known, at the end of the file.
           sockaddr_storage ss;
           socklen_t len;
           if (!ParseSocketAddress(a, &ss, &len))
             return BadValue("'" + a + "' is not a numeric address with a port (write 127.0.0.1:PORT or "
                             "[::1]:PORT)");
           la.address = a;
           c->listen.push_back(la);
         }
         return Status::Ok();
       }},
      {"listen_tls",
       [](std::string_view v, Config* c) {
         if (!ParseTlsMode(v, &c->listen_tls) || c->listen_tls == TlsMode::kNone)
           return BadValue("unknown listener TLS mode '" + std::string(v) + "' (use starttls or smtps)");
         return Status::Ok();
       }},
      {"listen_allow",
       [](std::string_view v, Config* c) {
         for (std::string_view item : Split(v, ',')) {
           std::string_view t = Trim(item);
           if (t.empty()) continue;
           Network n;
           if (!ParseNetwork(t, &n))
             return BadValue("'" + std::string(t) + "' is not a network (write 192.0.2.0/24 or 2001:db8::/32)");
           // Clients are matched as IPv4 whatever socket they came on: an
           // IPv4-mapped network would match nobody, silently.
           if (n.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(reinterpret_cast<const in6_addr*>(n.addr)))
             return BadValue("'" + std::string(t) + "' is IPv4-mapped: write the IPv4 network instead");
           c->listen_allow.push_back(n);
         }
         return Status::Ok();
       }},
      {"listen_tls_cert_file", FilePath(&Config::listen_tls_cert_file)},
      {"listen_tls_key_file", FilePath(&Config::listen_tls_key_file)},
      {"listen_auth_users", FilePath(&Config::listen_auth_users)},
      {"listen_client_ca", FilePath(&Config::listen_client_ca)},
      {"listen_client_fingerprint", Pin(&Config::listen_client_fingerprints)},
      {"listen_auth_header", YesNo(&Config::listen_auth_header)},
      {"listen_max_connections", Count(&Config::listen_max_connections, 1, 1000)},
      {"listen_max_per_client", Count(&Config::listen_max_per_client, 1, 1000)},
      {"listen_auth_failure_limit", Count(&Config::listen_auth_failure_limit, 0, 1000)},
      {"listen_auth_failure_window", Duration(&Config::listen_auth_failure_window, 1, 30LL * 86400)},
      {"timeout_smtpd", Duration(&Config::timeout_smtpd, 1, 86400)},
      {"max_connections", Count(&Config::max_connections, 1, 100)},
      {"max_messages_per_connection", Count(&Config::max_messages_per_connection, 1, 100000)},
      {"retry_min", Duration(&Config::retry_min, 1)},
      {"retry_max", Duration(&Config::retry_max, 1)},
      {"queue_lifetime", Duration(&Config::queue_lifetime, 0)},
      {"bounce_size_limit",
       [](std::string_view v, Config* c) {
         uint64_t n = 0;
         if (!ParseSize(v, &n) || n > static_cast<uint64_t>(INT64_MAX))
           return BadValue("bad size '" + std::string(v) + "'");
         c->bounce_size_limit = static_cast<int64_t>(n);
         return Status::Ok();
       }},
      {"log",
       [](std::string_view v, Config* c) {
         if (v != "syslog" && v != "stderr" && v.front() != '/')
           return BadValue("must be syslog, stderr, or an absolute file path");
         c->log = v;
         return Status::Ok();
       }},
      {"timeout_connect", Duration(&Config::timeout_connect, 1, 86400)},
      {"timeout_greeting", Duration(&Config::timeout_greeting, 1, 86400)},
      {"timeout_command", Duration(&Config::timeout_command, 1, 86400)},
      {"timeout_data_init", Duration(&Config::timeout_data_init, 1, 86400)},
      {"timeout_data_block", Duration(&Config::timeout_data_block, 1, 86400)},
      {"timeout_data_done", Duration(&Config::timeout_data_done, 1, 86400)},
      {"spool_min_free", Size(&Config::spool_min_free)},
      // OAuth 2.0 (issue 17: refresh inside relay-deliver, presets).
      {"provider",
       [](std::string_view v, Config* c) {
         if (!FindProviderPreset(v))
           return BadValue("unknown provider '" + std::string(v) +
                           "' (use gmail, google-workspace-relay, microsoft365 or outlook)");
         c->provider = v;
         return Status::Ok();
       }},
      {"oauth_token_file", FilePath(&Config::oauth_token_file)},
      {"oauth_token_endpoint",
       [](std::string_view v, Config* c) {
         // Tokens go over verified TLS only (RFC 6749 3.2).
         if (v.substr(0, 8) != "https://" || v.size() == 8 || v.find_first_of(" \t") != std::string_view::npos)
           return BadValue("must be an https:// URL");
         c->oauth_token_endpoint = v;
         return Status::Ok();
       }},
      {"oauth_scope", Text(&Config::oauth_scope)},
      {"oauth_tenant",
       [](std::string_view v, Config* c) {
         for (char ch : v)
           if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.')
             return BadValue("must be a tenant id or domain (letters, digits, '-' and '.')");
         c->oauth_tenant = v;
         return Status::Ok();
       }},
      {"oauth_ca_file", FilePath(&Config::oauth_ca_file)},
      {"oauth_refresh_ahead", Duration(&Config::oauth_refresh_ahead, 0, 86400)},
      {"timeout_oauth", Duration(&Config::timeout_oauth, 1, 3600)},
      {"message_size_limit", Size(&Config::message_size_limit)},
  };
  return *setters;
}

}  // namespace

uint16_t Smarthost::effective_port() const {
  if (port != 0) return port;
  switch (tls) {
    case TlsMode::kSmtps: return 465;
    case TlsMode::kNone: return 25;
    case TlsMode::kStartTls: break;
  }
  return 587;
}

bool ParseDuration(std::string_view s, int64_t* seconds) {
  int64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 7 * 86400; break;
      default: mult = 0; break;
    }
    if (mult != 0) s.remove_suffix(1);
    else mult = 1;
  }
  int64_t n = 0;
  // Digits only: from_chars would take "-0".
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n < 0) return false;
  if (n > INT64_MAX / mult) return false;  // overflow
  *seconds = n * mult;
  return true;
}

bool ParseTlsMode(std::string_view s, TlsMode* mode) {
  if (s == "starttls") *mode = TlsMode::kStartTls;
  else if (s == "smtps") *mode = TlsMode::kSmtps;
  else if (s == "none") *mode = TlsMode::kNone;
  else return false;
  return true;
}

const char* TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kStartTls: return "starttls";
    case TlsMode::kSmtps: return "smtps";
    case TlsMode::kNone: return "none";
  }
  return "?";
}

Status ParseSmarthosts(std::string_view value, std::vector<Smarthost>* out) {
  for (std::string_view item : Split(value, ',')) {
    if (Trim(item).empty()) return BadValue("empty item in smarthost list");
    Smarthost h;
    Status s = ParseOneSmarthost(item, &h);
    if (!s.ok()) return s;
    out->push_back(std::move(h));
  }
  return Status::Ok();
}

namespace {

// Beyond loopback, only with the networks named and a way to authenticate
// every client: relay is never an open relay.
Status CheckListenPolicy(const Config& cfg) {
  for (const ListenAddress& la : cfg.listen) {
    const std::string& a = la.address;
    sockaddr_storage ss;
    socklen_t len;
    if (ParseSocketAddress(a, &ss, &len) && !IsLoopback(ss) && cfg.listen_allow.empty())
      return Status::Config("listen address " + a +
                            " is not a loopback address: relay listens on loopback only unless "
                            "listen_allow names the client networks");
    // TLS from the first byte is relay-smtpd's, which needs the
    // certificate and the users that come with listen_allow.
    if (la.tls == TlsMode::kSmtps && cfg.listen_allow.empty())
      return Status::Config("listen address " + a + " smtps needs listen_allow (implicit TLS is for "
                            "clients that authenticate; see listen_allow)");
  }
  if (cfg.listen_tls == TlsMode::kSmtps && cfg.listen_allow.empty())
    return Status::Config("listen_tls = smtps needs listen_allow (implicit TLS is for clients that "
                          "authenticate; see listen_allow)");
  if (cfg.listen_allow.empty()) return Status::Ok();
  if (cfg.listen_tls_cert_file.empty() || cfg.listen_tls_key_file.empty())
    return Status::Config("listen_allow needs listen_tls_cert_file and listen_tls_key_file "
                          "(clients beyond loopback must use TLS)");
  if (cfg.listen_auth_users.empty() && cfg.listen_client_ca.empty() && cfg.listen_client_fingerprints.empty())
    return Status::Config("listen_allow needs listen_auth_users, listen_client_ca or "
                          "listen_client_fingerprint: every client beyond loopback must authenticate");
  return Status::Ok();
}

// With OAuth on, the login is the mailbox address and the secret is the
// token store's: a password source too would leave it unclear which is
// used, and no mechanism but the two bearer ones can carry a token.
Status CheckOAuthSettings(const Config& cfg) {
  const std::string what = cfg.provider.empty() ? "oauth_token_file" : "provider = " + cfg.provider;
  if (cfg.auth_user.empty()) return Status::Config(what + " needs auth_user (the mailbox address that logs in)");
  if (!cfg.auth_password_file.empty() || !cfg.auth_password_command.empty())
    return Status::Config(what + " takes its token from the token store: remove auth_password_file and "
                          "auth_password_command");
  if (cfg.auth_mechanisms.empty())
    return Status::Config(what + " needs auth_mechanisms = XOAUTH2 or OAUTHBEARER");
  for (const std::string& m : cfg.auth_mechanisms)
    if (m != "XOAUTH2" && m != "OAUTHBEARER")
      return Status::Config(what + ": auth_mechanisms may name only XOAUTH2 and OAUTHBEARER, not " + m);
  return Status::Ok();
}

}  // namespace

const ProviderPreset* FindProviderPreset(std::string_view name) {
  // Google: developers.google.com/gmail/imap/xoauth2-protocol and
  // support.google.com/a/answer/176600 (smtp-relay). Microsoft:
  // learn.microsoft.com/exchange/client-developer/legacy-protocols/
  // how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth.
  static const ProviderPreset kPresets[] = {
      {"gmail", "smtp.gmail.com", 587, TlsMode::kStartTls, "XOAUTH2", "https://oauth2.googleapis.com/token",
       "https://mail.google.com/", ""},
      {"google-workspace-relay", "smtp-relay.gmail.com", 587, TlsMode::kStartTls, "XOAUTH2",
       "https://oauth2.googleapis.com/token", "https://mail.google.com/", ""},
      {"microsoft365", "smtp.office365.com", 587, TlsMode::kStartTls, "XOAUTH2",
       "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
       "https://outlook.office.com/SMTP.Send offline_access", "organizations"},
      {"outlook", "smtp-mail.outlook.com", 587, TlsMode::kStartTls, "XOAUTH2",
       "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
       "https://outlook.office.com/SMTP.Send offline_access", "consumers"},
  };
  for (const ProviderPreset& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

void ApplyProviderPreset(Config* cfg) {
  const ProviderPreset* p = FindProviderPreset(cfg->provider);
  if (!p) return;
  if (cfg->smarthosts.empty()) {
    Smarthost h;
    h.host = p->host;
    h.port = p->port;
    h.tls = p->tls;
    h.tls_set = true;
    cfg->smarthosts.push_back(h);
  }
  if (cfg->auth_mechanisms.empty()) cfg->auth_mechanisms = {p->mechanism};
  if (cfg->oauth_tenant.empty()) cfg->oauth_tenant = p->tenant;
  if (cfg->oauth_token_endpoint.empty()) {
    std::string url = p->token_endpoint;
    size_t at = url.find("{tenant}");
    if (at != std::string::npos) url.replace(at, 8, cfg->oauth_tenant);
    cfg->oauth_token_endpoint = url;
  }
  if (cfg->oauth_scope.empty()) cfg->oauth_scope = p->scope;
}

Status ParseConfig(std::string_view text, std::string_view name, Config* cfg) {
  int lineno = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++lineno;
    auto where = [&](std::string_view what) {
      return Status::Config(std::string(name) + ":" + std::to_string(lineno) + ": " +
                            std::string(what));
    };
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string_view::npos) return where("expected 'key = value'");
    std::string_view key = Trim(t.substr(0, eq));
    std::string_view value = Trim(t.substr(eq + 1));
    if (key.empty()) return where("missing key before '='");
    auto it = Setters().find(key);
    if (it == Setters().end()) return where("unknown key '" + std::string(key) + "'");
    if (value.empty()) return where("empty value for '" + std::string(key) + "'");
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        return where("control character in value of '" + std::string(key) + "'");
    Status s = it->second(value, cfg);
    if (!s.ok()) return where(std::string(key) + ": " + s.message());
  }
  if (cfg->retry_max < cfg->retry_min)
    return Status::Config(std::string(name) + ": retry_max is shorter than retry_min");
  ApplyProviderPreset(cfg);
  if (cfg->oauth()) {
    Status s = CheckOAuthSettings(*cfg);
    if (!s.ok()) return Status::Config(std::string(name) + ": " + s.message());
  } else if (!cfg->auth_user.empty() && cfg->auth_password_file.empty() && cfg->auth_password_command.empty()) {
    return Status::Config(std::string(name) + ": auth_user needs auth_password_file or auth_password_command");
  }
  if (cfg->tls_cert_file.empty() != cfg->tls_key_file.empty())
    return Status::Config(std::string(name) + ": tls_cert_file and tls_key_file go together");
  // A default listener TLS mode applies to addresses that named none,
  // wherever listen_tls stands in the file.
  for (ListenAddress& la : cfg->listen)
    if (!la.tls_set) la.tls = cfg->listen_tls;
  Status s = CheckListenPolicy(*cfg);
  if (!s.ok()) return Status::Config(std::string(name) + ": " + s.message());
  // A default TLS mode applies to hosts that did not name their own.
  for (Smarthost& h : cfg->smarthosts)
    if (!h.tls_set) h.tls = cfg->tls;
  return Status::Ok();
}

Status LoadConfig(Env* env, const std::string& path, Config* cfg, bool named) {
  std::string text;
  bool missing = false;
  Status s = env->ReadFile(path, &text, &missing);
  if (missing && named) return Status::Config("-C " + path + ": no such configuration file");
  if (missing) return Status::Ok();
  if (!s.ok()) return Status::Config(s.message());
  cfg->path = path;
  return ParseConfig(text, path, cfg);
}

}  // namespace relay
