#include "relay/import.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "relay/config.h"
#include "relay/spool.h"
#include "relay/strings.h"

namespace relay {
namespace {

// What every peer means by "the system's certificate authorities".
constexpr std::string_view kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::string_view kSystemCaDir = "/etc/ssl/certs";

// ---------------------------------------------------------------- helpers

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out = Split(text, '\n');
  for (std::string_view& l : out)
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return out;
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t s = path.rfind('/');
  return std::string(s == std::string_view::npos ? path : path.substr(s + 1));
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t s = path.rfind('/');
  if (s == std::string_view::npos) return ".";
  if (s == 0) return "/";
  return std::string(path.substr(0, s));
}

bool IsYes(std::string_view v) {
  return EqualsIgnoreCase(v, "yes") || EqualsIgnoreCase(v, "on") || EqualsIgnoreCase(v, "true") || v == "1";
}

bool IsNo(std::string_view v) {
  return EqualsIgnoreCase(v, "no") || EqualsIgnoreCase(v, "off") || EqualsIgnoreCase(v, "false") || v == "0";
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ParsePort(std::string_view s, unsigned* port) {
  unsigned v = 0;
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  *port = v;
  return true;
}

// The port of a service name as Postfix and /etc/services know it.
bool ParseService(std::string_view s, unsigned* port) {
  if (ParsePort(s, port)) return true;
  if (s == "smtp") *port = 25;
  else if (s == "submission") *port = 587;
  else if (s == "smtps" || s == "submissions" || s == "ssmtp") *port = 465;
  else return false;
  return true;
}

// The first word of s, and the rest with its leading blanks removed.
std::pair<std::string_view, std::string_view> FirstWord(std::string_view s) {
  s = Trim(s);
  size_t sp = s.find_first_of(" \t");
  if (sp == std::string_view::npos) return {s, {}};
  return {s.substr(0, sp), Trim(s.substr(sp))};
}

std::vector<std::string_view> Words(std::string_view s, std::string_view seps = " \t") {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t b = s.find_first_not_of(seps, i);
    if (b == std::string_view::npos) break;
    size_t e = s.find_first_of(seps, b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    i = e;
  }
  return out;
}

bool HasSettings(std::string_view text) {
  for (std::string_view l : Lines(text)) {
    std::string_view t = Trim(l);
    if (!t.empty() && t.front() != '#') return true;
  }
  return false;
}

// "sha256:" and lower-case hex from a fingerprint written with or without
// colons; "" with *bits set to the digest size when it is not SHA-256.
std::string Sha256Pin(std::string_view fp, size_t* hex_digits) {
  std::string hex;
  for (char c : fp)
    if (c != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool ok = !hex.empty() && std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  *hex_digits = ok ? hex.size() : 0;
  if (!ok || hex.size() != 64) return "";
  return "sha256:" + hex;
}

const char* DigestName(size_t hex_digits) {
  switch (hex_digits) {
    case 32: return "an MD5";
    case 40: return "a SHA-1";
    default: return "not a SHA-256";
  }
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

const std::string* FindFile(const ImportSource& src, const std::string& name) {
  auto it = src.files.find(name);
  return it == src.files.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------- builder

// The relay.conf being made, with a comment naming where each line comes
// from. Every value is checked with relay's own parser before it is kept:
// a value relay would refuse becomes a warning, never a broken file.
class Builder {
 public:
  struct Hop {
    std::string host;
    unsigned port = 0;
    TlsMode tls = TlsMode::kStartTls;
    std::string from;
    std::string setting;
  };

  void Warn(const std::string& w) {
    if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(w);
  }

  // Sets key (an earlier value is replaced; tls_fingerprint adds). Returns
  // false, with a warning naming `setting`, when relay refuses the value.
  bool Set(const std::string& key, const std::string& value, const std::string& from,
           const std::string& setting) {
    std::string why;
    if (!Valid(key, value, &why)) {
      Warn(setting + ": '" + Printable(value) + "' is not a valid " + key + " for relay (" + why +
           "); not carried over");
      return false;
    }
    if (key != "tls_fingerprint") {
      for (Entry& e : entries_) {
        if (e.key == key) {
          e.value = value;
          e.from = from;
          return true;
        }
      }
    }
    entries_.push_back({key, value, from});
    return true;
  }

  bool Has(const std::string& key) const {
    for (const Entry& e : entries_)
      if (e.key == key) return true;
    return false;
  }

  bool AddHost(const std::string& host, unsigned port, TlsMode tls, const std::string& from,
               const std::string& setting) {
    Hop h{host, port, tls, from, setting};
    std::string why;
    if (!Valid("smarthost", HopText(h), &why)) {
      Warn(setting + ": '" + Printable(host) + "' is not a host relay can use (" + why + "); not carried over");
      return false;
    }
    hops_.push_back(h);
    return true;
  }

  std::vector<Hop>& hops() { return hops_; }

  // The login: relay has one user and one secret for every smarthost.
  std::string auth_user, auth_from;
  std::string secret, secret_from;
  std::string password_command, password_command_from;
  std::vector<std::string> alias_lines;

  Status Finish(const std::string& kind, const std::string& origin, const ImportOptions& opts,
                ImportResult* out) {
    if (hops_.empty()) return Status::DataErr("no relay host to import");
    FinishAuth(opts);
    FinishRetries();

    static const char* const kOrder[] = {
        "tls_ca_file", "tls_ca_dir", "tls_cert_file", "tls_key_file", "tls_fingerprint",
        "tls_min_version", "auth_user", "auth_password_file", "auth_password_command",
        "auth_mechanisms", "auth_without_tls", "domain", "helo_name", "aliases",
        "message_size_limit", "queue_lifetime", "retry_min", "retry_max", "timeout_connect",
        "timeout_greeting", "timeout_command", "timeout_data_init", "timeout_data_block",
        "timeout_data_done"};
    auto rank = [](const std::string& key) {
      for (size_t i = 0; i < std::size(kOrder); ++i)
        if (key == kOrder[i]) return i;
      return std::size(kOrder);
    };
    std::stable_sort(entries_.begin(), entries_.end(),
                     [&](const Entry& a, const Entry& b) { return rank(a.key) < rank(b.key); });

    std::string text = "# relay.conf, imported from " + kind;
    if (!origin.empty()) text += " (" + Printable(origin) + ")";
    text += " by relayctl import.\n"
            "# See relay.conf(5); check it with 'relayctl check' and 'relayctl test ADDRESS'.\n";
    for (const Hop& h : hops_) {
      text += "\n";
      if (!h.from.empty()) text += "# " + Printable(h.from) + "\n";
      text += "smarthost = " + HopText(h) + "\n";
    }
    for (const Entry& e : entries_) {
      text += "\n";
      if (!e.from.empty()) text += "# " + Printable(e.from) + "\n";
      text += e.key + " = " + e.value + "\n";
    }
    for (const std::string& c : notes_) text += "\n# " + Printable(c) + "\n";

    // The promise: relay reads what it is given.
    Config check;
    Status s = ParseConfig(text, "imported relay.conf", &check);
    if (!s.ok()) return Status::Software("the imported configuration does not parse: " + s.message());

    out->relay_conf = std::move(text);
    out->secret = secret;
    out->warnings = warnings_;
    out->aliases.clear();
    for (const std::string& a : alias_lines) out->aliases += a + "\n";
    return Status::Ok();
  }

  // A comment at the end of the file (for what relay does by default).
  void Note(const std::string& n) { notes_.push_back(n); }

 private:
  struct Entry {
    std::string key, value, from;
  };

  static std::string HopText(const Hop& h) {
    std::string host = h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
    return host + ":" + std::to_string(h.port) + " " + TlsModeName(h.tls);
  }

  static bool Valid(const std::string& key, const std::string& value, std::string* why) {
    if (value.empty()) {
      *why = "empty";
      return false;
    }
    Config c;
    std::string text = key + " = " + value + "\n";
    // Rules across keys are checked in Finish, not here.
    if (key == "auth_user") text += "auth_password_command = true\n";
    if (key == "retry_min") text += "retry_max = " + value + "\n";
    if (key == "retry_max") text += "retry_min = 1s\n";
    if (key == "tls_cert_file") text += "tls_key_file = /k\n";
    if (key == "tls_key_file") text += "tls_cert_file = /c\n";
    Status s = ParseConfig(text, "x", &c);
    if (s.ok()) return true;
    std::string m = s.message();
    size_t p = m.find(": " + key + ": ");
    *why = p == std::string::npos ? m : m.substr(p + key.size() + 4);
    return false;
  }

  void FinishAuth(const ImportOptions& opts) {
    if (auth_user.empty()) {
      if (!secret.empty())
        Warn(secret_from + ": a password but no user name; relay logs in only with auth_user, so "
             "the password is not carried over");
      secret.clear();
      return;
    }
    if (!Set("auth_user", auth_user, auth_from, auth_from)) {
      secret.clear();
      return;
    }
    if (!secret.empty()) {
      Set("auth_password_file", opts.secret_file,
          "the password (" + secret_from + ") goes in this file, mode 0600, owned by the relay user",
          "auth_password_file");
    } else if (!password_command.empty()) {
      if (!Set("auth_password_command", password_command, password_command_from, password_command_from))
        Set("auth_password_file", opts.secret_file, "write the password in this file, mode 0600",
            "auth_password_file");
    } else {
      Set("auth_password_file", opts.secret_file, "write the password in this file, mode 0600",
          "auth_password_file");
      Warn(auth_from + ": no password found for " + auth_user + ": write it to " + opts.secret_file +
           " (mode 0600, owned by the relay user)");
    }
    // relay sends credentials only under TLS, or to loopback when allowed.
    bool loopback_only = true;
    for (Hop& h : hops_) {
      if (h.tls != TlsMode::kNone) continue;
      if (IsLoopback(h.host)) continue;
      loopback_only = false;
      h.tls = TlsMode::kStartTls;
      Warn(h.setting + ": the password went to " + h.host + " without TLS; relay never sends it "
           "unencrypted, so this smarthost is set to starttls (if it offers no STARTTLS, use its "
           "TLS port with smtps)");
      h.from += "; starttls: relay sends the password only under TLS";
    }
    bool any_plain = false;
    for (const Hop& h : hops_) any_plain |= h.tls == TlsMode::kNone;
    if (any_plain && loopback_only)
      Set("auth_without_tls", "yes", "the login went without TLS to a smarthost on this machine",
          "auth_without_tls");
  }

  void FinishRetries() {
    int64_t lo = 300, hi = 3600;
    for (const Entry& e : entries_) {
      if (e.key == "retry_min") ParseDuration(e.value, &lo);
      if (e.key == "retry_max") ParseDuration(e.value, &hi);
    }
    if (hi >= lo) return;
    for (const Entry& e : entries_) {
      if (e.key == "retry_min") {
        Set("retry_max", e.value, "raised to retry_min, which relay requires", "retry_max");
        Warn("retry_max: shorter than retry_min (" + e.value + "), which relay refuses; set to " + e.value);
        return;
      }
    }
  }

  std::vector<Hop> hops_;
  std::vector<Entry> entries_;
  std::vector<std::string> warnings_;
  std::vector<std::string> notes_;
};

// The CA file or directory, unless it is the system store relay uses anyway.
void SetCaFile(Builder& b, const std::string& path, const std::string& from, const std::string& setting) {
  if (path.empty() || path == kSystemCaFile || path == "system") return;
  b.Set("tls_ca_file", path, from, setting);
}

void SetCaDir(Builder& b, const std::string& path, const std::string& from, const std::string& setting) {
  if (path.empty() || path == kSystemCaDir || path == std::string(kSystemCaDir) + "/") return;
  b.Set("tls_ca_dir", path, from, setting);
}

void SetMechanism(Builder& b, std::string_view method, const std::string& from, const std::string& setting) {
  std::string m = ToUpper(method);
  if (m == "EXTERNAL") {
    b.Warn(setting + ": EXTERNAL (login by client certificate) is not supported by relay; set "
           "tls_cert_file and tls_key_file and no auth_user instead");
    return;
  }
  b.Set("auth_mechanisms", m, from, setting);
}

void CheckUnreadable(const ImportSource& src, Builder& b) {
  for (const auto& [name, why] : src.unreadable)
    b.Warn(name + ": could not be read (" + why + "); run relayctl import as root to carry it over");
}

// ---------------------------------------------------------------- ssmtp

Status ImportSsmtp(const ImportSource& src, Builder& b) {
  const std::string* conf = FindFile(src, "ssmtp.conf");
  if (!conf) return Status::DataErr("no ssmtp.conf to import");
  if (!HasSettings(*conf)) return Status::DataErr("ssmtp.conf is empty: no settings to import");

  std::string mailhub, remote_port, hostname, rewrite, root, tls_cert, tls_key, ca_file, ca_dir;
  std::string auth_user, auth_pass, auth_method;
  bool have_user = false, have_pass = false, have_method = false, have_root = false;
  bool use_tls = false, use_starttls = false, use_cert = false;
  std::optional<bool> from_override;
  int n = 0;
  for (std::string_view raw : Lines(*conf)) {
    ++n;
    std::string where = "ssmtp.conf:" + std::to_string(n);
    // As ssmtp reads it: '#' starts a comment anywhere on a line.
    std::string_view l = raw.substr(0, raw.find('#'));
    l = Trim(l);
    if (l.empty()) continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      b.Warn(where + ": no '=' on the line; ignored, as ssmtp did");
      continue;
    }
    std::string name(Trim(l.substr(0, eq)));
    std::string key = ToLower(name);
    std::string value(Trim(l.substr(eq + 1)));
    if (value.empty()) continue;  // ssmtp ignores a key without a value
    if (key == "root") root = value, have_root = true;
    else if (key == "mailhub") mailhub = value;
    else if (key == "hostname") hostname = value;
    else if (key == "rewritedomain") rewrite = value.substr(value.rfind('@') == std::string::npos ? 0 : value.rfind('@') + 1);
    else if (key == "fromlineoverride") from_override = IsYes(value);
    else if (key == "remoteport") remote_port = value;
    else if (key == "usetls") {
      use_tls = IsYes(value);
      if (!use_tls) use_starttls = false;
    } else if (key == "usestarttls") {
      use_starttls = IsYes(value);
      if (use_starttls) use_tls = true;
    } else if (key == "usetlscert") use_cert = IsYes(value);
    else if (key == "tlscert") tls_cert = value;
    else if (key == "tlskey") tls_key = value;
    else if (key == "tls_ca_file") ca_file = value;
    else if (key == "tls_ca_dir") ca_dir = value;
    else if (key == "authuser") {
      if (!have_user) auth_user = value, have_user = true;  // ssmtp keeps the first
    } else if (key == "authpass") {
      if (!have_pass) auth_pass = value, have_pass = true;
    } else if (key == "authmethod") {
      if (!have_method) auth_method = value, have_method = true;
    } else if (key == "useoldauth") {
      if (IsYes(value))
        b.Warn("ssmtp.conf: UseOldAUTH: relay logs in as libsasl2 does (the user name is never sent "
               "with AUTH LOGIN itself); not carried over");
    } else if (key == "debug") {
      if (IsYes(value))
        b.Warn("ssmtp.conf: Debug: relay has no debug switch; relayd logs every delivery, and "
               "'relayctl test ADDRESS' shows the whole dialogue; not carried over");
    } else if (key == "addheader") {
      b.Warn("ssmtp.conf: AddHeader: relay adds no header fields of its own choosing; not carried over");
    } else {
      b.Warn(where + ": " + Printable(name) + ": not an ssmtp setting relay knows; not carried over");
    }
  }

  if (mailhub.empty())
    return Status::DataErr("ssmtp.conf names no mailhub (the relay host): nothing to import");
  std::string host = mailhub, port_text;
  if (size_t colon = mailhub.find(':'); colon != std::string::npos) {
    host = mailhub.substr(0, colon);
    port_text = mailhub.substr(colon + 1);
  }
  std::string port_from = "mailhub=" + mailhub;
  if (port_text.empty() && !remote_port.empty()) port_text = remote_port, port_from += ", RemotePort=" + remote_port;
  unsigned port = 25;  // ssmtp's default, TLS or not
  if (!port_text.empty() && !ParsePort(port_text, &port))
    return Status::DataErr("ssmtp.conf: mailhub=" + mailhub + ": '" + port_text + "' is not a port number");
  TlsMode tls = use_starttls ? TlsMode::kStartTls : use_tls ? TlsMode::kSmtps : TlsMode::kNone;
  std::string from = "ssmtp.conf: " + port_from;
  if (use_starttls) from += ", UseSTARTTLS=YES";
  else if (use_tls) from += ", UseTLS=YES (TLS from the first byte)";
  else from += ", no UseTLS (mail went without TLS)";
  if (port_text.empty()) from += "; port 25 is ssmtp's default";
  if (!b.AddHost(host, port, tls, from, "ssmtp.conf: mailhub"))
    return Status::DataErr("ssmtp.conf: mailhub=" + mailhub + " is not a host name relay can use");
  if (tls == TlsMode::kNone && !IsLoopback(host) && auth_user.empty())
    b.Warn("ssmtp.conf: UseTLS: mail went to " + host + " without TLS, and still will (tls none); "
           "set starttls or smtps if the mailhub offers it");
  if (tls != TlsMode::kNone)
    b.Warn("ssmtp.conf: UseTLS: ssmtp never checked the mailhub's certificate; relay does (the "
           "system's CAs, and the name " + host + "): if it is self-signed, set tls_ca_file or "
           "tls_fingerprint");

  SetCaFile(b, ca_file, "ssmtp.conf: TLS_CA_File", "ssmtp.conf: TLS_CA_File");
  SetCaDir(b, ca_dir, "ssmtp.conf: TLS_CA_Dir", "ssmtp.conf: TLS_CA_Dir");
  if (use_cert && !tls_cert.empty()) {
    // ssmtp reads the key from the certificate file unless TLSKey names one.
    b.Set("tls_cert_file", tls_cert, "ssmtp.conf: UseTLSCert=YES, TLSCert", "ssmtp.conf: TLSCert");
    b.Set("tls_key_file", tls_key.empty() ? tls_cert : tls_key,
          tls_key.empty() ? "ssmtp.conf: TLSCert (the key is in the same file)" : "ssmtp.conf: TLSKey",
          "ssmtp.conf: TLSKey");
  } else if (!tls_cert.empty()) {
    b.Warn("ssmtp.conf: TLSCert: ssmtp did not use it (UseTLSCert is not YES); not carried over");
  }

  if (!auth_user.empty()) {
    b.auth_user = auth_user;
    b.auth_from = "ssmtp.conf: AuthUser";
    b.secret = auth_pass;
    b.secret_from = "ssmtp.conf: AuthPass";
    if (!auth_method.empty()) SetMechanism(b, auth_method, "ssmtp.conf: AuthMethod", "ssmtp.conf: AuthMethod");
  } else if (!auth_pass.empty()) {
    b.secret = auth_pass;
    b.secret_from = "ssmtp.conf: AuthPass";
  }

  if (!rewrite.empty()) {
    b.Set("domain", rewrite, "ssmtp.conf: rewriteDomain", "ssmtp.conf: rewriteDomain");
  } else if (!hostname.empty()) {
    b.Set("domain", hostname, "ssmtp.conf: hostname (ssmtp qualified addresses with it: no rewriteDomain)",
          "ssmtp.conf: hostname");
  }
  if (!hostname.empty()) b.Set("helo_name", hostname, "ssmtp.conf: hostname", "ssmtp.conf: hostname");

  if (from_override) {
    if (*from_override)
      b.Warn("ssmtp.conf: FromLineOverride=YES: relay always keeps the From header a message has; "
             "nothing to set");
    else
      b.Warn("ssmtp.conf: FromLineOverride=NO: ssmtp replaced the From header with the sender's "
             "address; relay always honours the From header a message has; not carried over");
  }
  if (have_root) {
    b.alias_lines.push_back("root: " + root);
    b.Warn("ssmtp.conf: root=" + root + ": ssmtp sent the mail of every user id below 1000 there; "
           "the alias 'root: " + root + "' covers root only: add aliases for other system users "
           "(or '*: " + root + "' for every local name)");
  }

  if (const std::string* rev = FindFile(src, "revaliases")) {
    int ln = 0;
    for (std::string_view raw : Lines(*rev)) {
      ++ln;
      std::string_view t = Trim(raw);
      if (t.empty() || t.front() == '#') continue;
      std::vector<std::string_view> f = Split(t, ':');
      std::string user(Trim(f[0]));
      std::string addr = f.size() > 1 ? std::string(Trim(f[1])) : "";
      std::string hub = f.size() > 2 ? std::string(Trim(f[2])) : "";
      b.Warn("revaliases:" + std::to_string(ln) + ": " + Printable(user) + " -> " + Printable(addr) +
             (hub.empty() ? "" : " via " + Printable(hub)) +
             ": per-user sender rewriting is not supported by relay (the sender is login@domain, "
             "or what -f gives); not carried over");
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- nullmailer

std::string FirstLine(const std::string& text) {
  for (std::string_view l : Lines(text)) {
    std::string_view t = Trim(l);
    if (!t.empty() && t.front() != '#') return std::string(t);
  }
  return "";
}

Status ImportNullmailer(const ImportSource& src, Builder& b) {
  const std::string* remotes = FindFile(src, "remotes");
  if (!remotes) {
    if (src.unreadable.count("remotes"))
      return Status::DataErr("remotes could not be read (" + src.unreadable.at("remotes") + ")");
    return Status::DataErr("no remotes file: nullmailer had no relay host to import");
  }
  if (!HasSettings(*remotes)) return Status::DataErr("remotes is empty: no relay host to import");

  std::string ca_file, ca_file_from, cert_file;
  bool auth_login = false;
  int n = 0;
  for (std::string_view raw : Lines(*remotes)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    std::string where = "remotes:" + std::to_string(n);
    std::vector<std::string_view> w = Words(t);
    std::string host(w[0]);
    size_t i = 1;
    std::string proto = "smtp";
    if (w.size() > 1 && w[1].substr(0, 1) != "-") proto = std::string(w[1]), i = 2;
    if (proto == "qmqp") {
      b.Warn(where + ": " + host + " qmqp: relay speaks SMTP only; not carried over");
      continue;
    }
    if (proto != "smtp") {
      b.Warn(where + ": " + host + ": unknown protocol '" + Printable(proto) + "'; not carried over");
      continue;
    }
    unsigned port = 0;
    bool ssl = false, starttls = false;
    std::string user, pass;
    bool have_user = false, have_pass = false;
    for (; i < w.size(); ++i) {
      std::string_view opt = w[i];
      // Options as nullmailer-smtp takes them, with or without the dashes.
      while (!opt.empty() && opt.front() == '-') opt.remove_prefix(1);
      std::string_view name = opt, value;
      bool has_value = false;
      if (size_t eq = opt.find('='); eq != std::string_view::npos) {
        name = opt.substr(0, eq);
        value = opt.substr(eq + 1);
        has_value = true;
      }
      std::string oname(name);
      if ((oname == "port" || oname == "p") && !has_value && i + 1 < w.size()) value = w[++i], has_value = true;
      if (oname == "port" || oname == "p") {
        if (!ParsePort(value, &port))
          return Status::DataErr(where + ": --port=" + std::string(value) + " is not a port number");
      } else if (oname == "user") {
        user = value, have_user = true;
      } else if (oname == "pass") {
        pass = value, have_pass = true;
      } else if (oname == "ssl") {
        ssl = true;
      } else if (oname == "starttls") {
        starttls = true;
      } else if (oname == "insecure") {
        b.Warn(where + ": --insecure: relay always verifies the smarthost's certificate (the "
               "system's CAs and the name " + host + "); if it is self-signed, set tls_ca_file or "
               "tls_fingerprint");
      } else if (oname == "auth-login") {
        auth_login = true;
      } else if (oname == "x509cafile") {
        std::string v(value);
        if (!ca_file.empty() && ca_file != v)
          b.Warn(where + ": --x509cafile: relay has one CA file for every smarthost; kept " + ca_file_from);
        else if (ca_file.empty())
          ca_file = v, ca_file_from = where + ": --x509cafile";
      } else if (oname == "x509certfile") {
        std::string v(value);
        if (cert_file.empty()) {
          cert_file = v;
          b.Set("tls_cert_file", v, where + ": --x509certfile", where + ": --x509certfile");
          b.Set("tls_key_file", v, where + ": --x509certfile (the key is in the same file)", where + ": --x509certfile");
        } else if (cert_file != v) {
          b.Warn(where + ": --x509certfile: relay has one client certificate for every smarthost; not carried over");
        }
      } else if (oname == "x509crlfile") {
        b.Warn(where + ": --x509crlfile: relay does not check certificate revocation lists; not carried over");
      } else if (oname == "x509fmtder") {
        b.Warn(where + ": --x509fmtder: relay reads PEM files only: convert them with "
               "'openssl x509 -inform der'");
      } else if (oname == "source") {
        b.Warn(where + ": --source: relay does not choose the local address it connects from; not carried over");
      } else if (oname == "options-file") {
        b.Warn(where + ": --options-file=" + std::string(value) + ": not read: carry its options "
               "(perhaps --user and --pass) over by hand");
      } else if (oname == "syslog" || oname == "daemon" || oname == "s" || oname == "d") {
        // Logging: relayd logs to syslog anyway.
      } else {
        b.Warn(where + ": --" + Printable(oname) + ": not a nullmailer option relay knows; not carried over");
      }
    }
    if (port == 0) port = ssl ? 465 : 25;
    TlsMode tls = ssl ? TlsMode::kSmtps : starttls ? TlsMode::kStartTls : TlsMode::kNone;
    std::string from = where + ": " + host + (ssl ? " --ssl" : starttls ? " --starttls" : " (no TLS)");
    if (!b.AddHost(host, port, tls, from, where)) continue;
    if (tls == TlsMode::kNone && !IsLoopback(host) && !have_user)
      b.Warn(where + ": " + host + ": mail went without TLS, and still will (tls none); add "
             "starttls or smtps to the smarthost line if the server offers it");
    if (have_user) {
      if (b.auth_user.empty()) {
        b.auth_user = user;
        b.auth_from = where + ": --user";
        if (have_pass) b.secret = pass, b.secret_from = where + ": --pass";
      } else if (b.auth_user != user || (have_pass && b.secret != pass)) {
        b.Warn(where + ": --user/--pass: relay logs in to every smarthost with one user and "
               "password; kept those of " + b.auth_from.substr(0, b.auth_from.find(':', 8)));
      }
    } else if (have_pass) {
      if (b.secret.empty()) b.secret = pass, b.secret_from = where + ": --pass";
    }
  }
  // A host without --user while another has one: relay logs in everywhere.
  if (!b.auth_user.empty()) {
    int ln = 0;
    for (std::string_view raw : Lines(*remotes)) {
      ++ln;
      std::string_view t = Trim(raw);
      if (t.empty() || t.front() == '#') continue;
      if (t.find("user=") == std::string_view::npos)
        b.Warn("remotes:" + std::to_string(ln) + ": " + std::string(Words(t)[0]) +
               ": no --user, but relay logs in to every smarthost as " + b.auth_user);
    }
  }
  if (b.hops().empty()) return Status::DataErr("remotes names no SMTP relay host relay can use");
  SetCaFile(b, ca_file, ca_file_from, ca_file_from);
  if (auth_login) b.Set("auth_mechanisms", "LOGIN", "remotes: --auth-login", "remotes: --auth-login");

  auto control = [&](const char* name) -> std::string {
    const std::string* t = FindFile(src, name);
    return t ? FirstLine(*t) : "";
  };
  std::string defaultdomain = control("defaultdomain");
  std::string defaulthost = control("defaulthost");
  std::string me = control("me");
  std::string helohost = control("helohost");
  // nullmailer qualifies "user" as user@defaulthost, and a host name
  // without a dot with .defaultdomain; defaulthost defaults to me.
  if (!defaulthost.empty()) {
    std::string d = defaulthost;
    if (d.find('.') == std::string::npos && !defaultdomain.empty()) d += "." + defaultdomain;
    b.Set("domain", d, "defaulthost" + std::string(d != defaulthost ? " and defaultdomain" : ""), "defaulthost");
  } else if (!defaultdomain.empty()) {
    b.Set("domain", defaultdomain, "defaultdomain", "defaultdomain");
  }
  if (!helohost.empty()) b.Set("helo_name", helohost, "helohost", "helohost");
  else if (!me.empty()) b.Set("helo_name", me, "me", "me");

  if (const std::string* admin = FindFile(src, "adminaddr")) {
    std::string list;
    for (std::string_view l : Lines(*admin)) {
      std::string_view t = Trim(l);
      if (t.empty() || t.front() == '#') continue;
      list += (list.empty() ? "" : ", ") + std::string(t);
    }
    if (!list.empty()) {
      b.alias_lines.push_back("root: " + list);
      b.Warn("adminaddr: nullmailer sent all local mail (to any name without a domain) to " + list +
             "; the alias 'root: " + list + "' covers root only: add '*: " + list +
             "' to the aliases to keep sending every local name there");
    }
  }
  if (!control("idhost").empty())
    b.Warn("idhost: relay's Message-IDs end in domain; not carried over");
  if (!control("allmailfrom").empty())
    b.Warn("allmailfrom: relay does not give every message one fixed envelope sender; not carried over");
  if (!control("pausetime").empty() || !control("maxpause").empty())
    b.Warn("pausetime/maxpause: relay retries after retry_min (5m), doubling up to retry_max (1h); "
           "not carried over");
  if (!control("sendtimeout").empty())
    b.Warn("sendtimeout: relay times each SMTP step (timeout_command and the others); not carried over");
  std::string lifetime = control("queuelifetime");
  if (!lifetime.empty()) {
    int64_t secs = 0;
    if (ParseDuration(lifetime, &secs)) b.Set("queue_lifetime", lifetime, "queuelifetime", "queuelifetime");
    else b.Warn("queuelifetime: '" + Printable(lifetime) + "' is not a number of seconds; not carried over");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- msmtp

// msmtp's argument: the rest of the line, or a double-quoted string in
// which backslash escapes '"' and '\'.
std::string MsmtpArg(std::string_view s) {
  s = Trim(s);
  if (s.empty() || s.front() != '"') return std::string(s);
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) out += s[++i];
    else if (s[i] == '"') break;
    else out += s[i];
  }
  return out;
}

struct MsmtpSetting {
  std::string value;
  int line = 0;
};
using MsmtpAccount = std::map<std::string, MsmtpSetting>;

Status ImportMsmtp(const ImportSource& src, Builder& b) {
  const std::string* rc = FindFile(src, "msmtprc");
  if (!rc) return Status::DataErr("no msmtprc to import");
  if (!HasSettings(*rc)) return Status::DataErr("msmtprc is empty: no settings to import");

  MsmtpAccount defaults;
  std::map<std::string, MsmtpAccount> accounts;
  std::map<std::string, std::vector<std::string>> parents_of;
  std::vector<std::string> order;
  MsmtpAccount* cur = &defaults;
  int n = 0;
  for (std::string_view raw : Lines(*rc)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    auto [cmd, rest] = FirstWord(t);
    std::string c(cmd);
    if (c == "defaults") {
      cur = &defaults;
    } else if (c == "account") {
      std::string_view name = rest, parents;
      if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
        name = Trim(rest.substr(0, colon));
        parents = rest.substr(colon + 1);
      }
      MsmtpAccount a = defaults;
      std::string nm(name);
      parents_of[nm].clear();
      for (std::string_view p : Split(parents, ',')) {
        std::string pn(Trim(p));
        if (pn.empty()) continue;
        parents_of[nm].push_back(pn);
        auto it = accounts.find(pn);
        if (it == accounts.end()) {
          b.Warn("msmtprc:" + std::to_string(n) + ": account " + std::string(name) + " inherits from " +
                 pn + ", which is not defined before it; ignored, as msmtp would refuse it");
          continue;
        }
        for (const auto& [k, v] : it->second) a[k] = v;
      }
      if (!accounts.count(nm)) order.push_back(nm);
      accounts[nm] = a;
      cur = &accounts[nm];
    } else {
      (*cur)[c] = {MsmtpArg(rest), n};
    }
  }

  std::string chosen = "default";
  if (!accounts.count(chosen)) {
    if (accounts.size() == 1) {
      chosen = order.front();
      b.Warn("msmtprc: no account 'default'; imported the only account, " + chosen);
    } else if (accounts.empty() && defaults.count("host")) {
      chosen.clear();  // settings outside any account
    } else {
      std::string names;
      for (const std::string& a : order) names += (names.empty() ? "" : ", ") + a;
      return Status::DataErr("msmtprc has no account 'default' (nor 'account default : NAME'); "
                             "accounts: " + (names.empty() ? "none" : names) + ": use relayctl import "
                             "on a copy that names the one to import as default");
    }
  }
  const MsmtpAccount& acc = chosen.empty() ? defaults : accounts[chosen];
  std::set<std::string> ancestors;
  std::vector<std::string> todo = {chosen};
  while (!todo.empty()) {
    std::string a = todo.back();
    todo.pop_back();
    if (!ancestors.insert(a).second) continue;
    for (const std::string& p : parents_of[a]) todo.push_back(p);
  }
  for (const std::string& a : order) {
    if (ancestors.count(a)) continue;
    b.Warn("msmtprc: account " + a + ": relay has one smarthost setup, the default account's; not "
           "carried over");
  }

  auto get = [&](const char* key) -> const MsmtpSetting* {
    auto it = acc.find(key);
    return it == acc.end() ? nullptr : &it->second;
  };
  auto where = [&](const MsmtpSetting* s, const char* key) {
    return "msmtprc:" + std::to_string(s->line) + ": " + key;
  };
  auto on = [](const MsmtpSetting* s) { return s && (s->value.empty() || IsYes(s->value)); };
  std::set<std::string> used = {"host", "port", "tls", "tls_starttls", "tls_trust_file", "tls_fingerprint",
                                "tls_certcheck", "tls_cert_file", "tls_key_file", "auth", "user",
                                "password", "passwordeval", "from", "domain", "maildomain", "aliases",
                                "protocol"};

  const MsmtpSetting* host = get("host");
  if (!host || host->value.empty())
    return Status::DataErr("msmtprc: account " + (chosen.empty() ? std::string("(none)") : chosen) +
                           " names no host (the relay host): nothing to import");
  if (const MsmtpSetting* p = get("protocol"); p && p->value == "lmtp")
    return Status::DataErr(where(p, "protocol") + " lmtp: relay relays over SMTP only");

  bool tls = on(get("tls"));
  const MsmtpSetting* st = get("tls_starttls");
  bool starttls = !st || on(st);
  TlsMode mode = !tls ? TlsMode::kNone : starttls ? TlsMode::kStartTls : TlsMode::kSmtps;
  unsigned port = 0;
  const MsmtpSetting* ps = get("port");
  if (ps && !ParsePort(ps->value, &port))
    return Status::DataErr(where(ps, "port") + " '" + ps->value + "' is not a port number");
  std::string from = where(host, "host") + " " + host->value;
  if (!ps) {
    port = mode == TlsMode::kSmtps ? 465 : 25;
    from += ", msmtp's default port " + std::to_string(port);
  }
  from += mode == TlsMode::kNone ? ", tls off" : mode == TlsMode::kSmtps ? ", tls on, tls_starttls off" : ", tls on";
  if (!b.AddHost(host->value, port, mode, from, where(host, "host")))
    return Status::DataErr(where(host, "host") + " " + host->value + " is not a host name relay can use");
  if (mode == TlsMode::kNone && !IsLoopback(host->value) && !get("user"))
    b.Warn("msmtprc: tls off: mail went to " + host->value + " without TLS, and still will (tls "
           "none); set starttls or smtps if the server offers it");

  if (const MsmtpSetting* s = get("tls_trust_file"))
    SetCaFile(b, s->value, where(s, "tls_trust_file"), where(s, "tls_trust_file"));
  if (const MsmtpSetting* s = get("tls_fingerprint")) {
    size_t digits = 0;
    std::string pin = Sha256Pin(s->value, &digits);
    if (!pin.empty())
      b.Set("tls_fingerprint", pin, where(s, "tls_fingerprint"), where(s, "tls_fingerprint"));
    else
      b.Warn(where(s, "tls_fingerprint") + ": " + DigestName(digits) + " fingerprint; relay pins "
             "SHA-256 only: put the certificate's SHA-256 fingerprint in tls_fingerprint");
  }
  if (const MsmtpSetting* s = get("tls_certcheck"); s && IsNo(s->value) && !get("tls_fingerprint"))
    b.Warn(where(s, "tls_certcheck") + " off: relay always verifies the certificate (the system's "
           "CAs and the name " + host->value + "); if it is self-signed, set tls_ca_file or tls_fingerprint");
  const MsmtpSetting* cert = get("tls_cert_file");
  const MsmtpSetting* key = get("tls_key_file");
  if (cert && key) {
    b.Set("tls_cert_file", cert->value, where(cert, "tls_cert_file"), where(cert, "tls_cert_file"));
    b.Set("tls_key_file", key->value, where(key, "tls_key_file"), where(key, "tls_key_file"));
  } else if (cert || key) {
    const MsmtpSetting* s = cert ? cert : key;
    b.Warn(where(s, cert ? "tls_cert_file" : "tls_key_file") + ": relay needs both the client "
           "certificate and its key; not carried over");
  }

  const MsmtpSetting* auth = get("auth");
  const MsmtpSetting* user = get("user");
  bool auth_off = auth && IsNo(auth->value);
  if (auth && !auth_off && !auth->value.empty() && !IsYes(auth->value))
    SetMechanism(b, auth->value, where(auth, "auth"), where(auth, "auth"));
  if (user && !auth_off) {
    b.auth_user = user->value;
    b.auth_from = where(user, "user");
    if (const MsmtpSetting* pw = get("password")) {
      b.secret = pw->value;
      b.secret_from = where(pw, "password");
      if (get("passwordeval"))
        b.Warn(where(get("passwordeval"), "passwordeval") + ": msmtp used password instead; not carried over");
    } else if (const MsmtpSetting* ev = get("passwordeval")) {
      b.password_command = ev->value;
      b.password_command_from = where(ev, "passwordeval");
      b.Warn(where(ev, "passwordeval") + ": carried over as auth_password_command, which runs as the "
             "relay user with no environment but PATH (no HOME, no GPG agent): check that it works "
             "there");
    } else {
      b.Warn(where(user, "user") + ": no password in msmtprc (msmtp may have found it in ~/.netrc or "
             "a keyring); put it in the password file");
    }
  } else if (user && auth_off) {
    b.Warn(where(user, "user") + ": auth is off, so msmtp did not log in; not carried over");
  }

  if (const MsmtpSetting* s = get("domain"))
    b.Set("helo_name", s->value, where(s, "domain"), where(s, "domain"));
  if (const MsmtpSetting* s = get("maildomain"))
    b.Set("domain", s->value, where(s, "maildomain"), where(s, "maildomain"));
  if (const MsmtpSetting* s = get("from")) {
    std::string hint;
    size_t at = s->value.rfind('@');
    if (at != std::string::npos && s->value.find('%', at) == std::string::npos && !b.Has("domain"))
      hint = " (set domain = " + s->value.substr(at + 1) + " if that is this host's mail domain)";
    b.Warn(where(s, "from") + " " + Printable(s->value) + ": relay sends each message with its own "
           "sender (login@domain, or what -f gives), not one fixed address; not carried over" + hint);
  }
  if (const MsmtpSetting* s = get("aliases"))
    b.Warn(where(s, "aliases") + " " + Printable(s->value) + ": not read: import it separately, by "
           "merging its entries into relay's aliases file (/etc/aliases)");
  for (const auto& [k, s] : acc) {
    if (used.count(k)) continue;
    if (k == "logfile" || k == "syslog" || k == "logfile_time_format") {
      b.Warn("msmtprc:" + std::to_string(s.line) + ": " + k + ": relayd logs to syslog (see the log "
             "key); not carried over");
      continue;
    }
    b.Warn("msmtprc:" + std::to_string(s.line) + ": " + Printable(k) + ": no equivalent in relay; not carried over");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- dma

Status ImportDma(const ImportSource& src, Builder& b) {
  const std::string* conf = FindFile(src, "dma.conf");
  if (!conf) return Status::DataErr("no dma.conf to import");
  if (!HasSettings(*conf)) return Status::DataErr("dma.conf is empty: no settings to import");

  struct Setting {
    std::string value;
    int line = 0;
  };
  std::map<std::string, Setting> set;
  int n = 0;
  for (std::string_view raw : Lines(*conf)) {
    ++n;
    std::string_view l = Trim(raw.substr(0, raw.find('#')));  // dma: '#' starts a comment anywhere
    if (l.empty()) continue;
    auto [word, value] = FirstWord(l);
    set[ToUpper(word)] = {std::string(value), n};
  }
  auto get = [&](const char* k) -> const Setting* {
    auto it = set.find(k);
    return it == set.end() ? nullptr : &it->second;
  };
  auto where = [&](const char* k) { return "dma.conf:" + std::to_string(get(k)->line) + ": " + k; };

  const Setting* smarthost = get("SMARTHOST");
  if (!smarthost || smarthost->value.empty())
    return Status::DataErr("dma.conf names no SMARTHOST: dma delivered straight to the recipients' "
                           "MX hosts, which relay never does; nothing to import");
  std::string host = smarthost->value;
  unsigned port = 25;
  if (const Setting* p = get("PORT"); p && !ParsePort(p->value, &port))
    return Status::DataErr(where("PORT") + " '" + p->value + "' is not a port number");
  bool secure = get("SECURETRANSFER") != nullptr;
  bool starttls = get("STARTTLS") != nullptr;
  bool opportunistic = get("OPPORTUNISTIC_TLS") != nullptr;
  TlsMode mode = !secure ? TlsMode::kNone : starttls ? TlsMode::kStartTls : TlsMode::kSmtps;
  std::string from = where("SMARTHOST") + " " + host + (get("PORT") ? ", PORT " + get("PORT")->value : ", port 25 (dma's default)");
  from += !secure ? ", no SECURETRANSFER (no TLS)" : starttls ? ", SECURETRANSFER and STARTTLS" : ", SECURETRANSFER (TLS from the first byte)";
  if (!b.AddHost(host, port, mode, from, where("SMARTHOST")))
    return Status::DataErr(where("SMARTHOST") + " " + host + " is not a host name relay can use");
  if (starttls && !secure)
    b.Warn(where("STARTTLS") + ": dma ignored it without SECURETRANSFER; mail went without TLS, and "
           "still will (tls none): set starttls on the smarthost line if the server offers it");
  else if (mode == TlsMode::kNone && !IsLoopback(host) && !get("AUTHPATH"))
    b.Warn(where("SMARTHOST") + ": mail went to " + host + " without TLS (no SECURETRANSFER), and still "
           "will (tls none); set starttls or smtps if the server offers it");
  if (opportunistic && mode == TlsMode::kStartTls)
    b.Warn(where("OPPORTUNISTIC_TLS") + ": relay requires STARTTLS to succeed; if the server offers "
           "none, set tls none on the smarthost line");
  if (const Setting* fp = get("FINGERPRINT")) {
    size_t digits = 0;
    std::string pin = Sha256Pin(fp->value, &digits);
    if (!pin.empty()) b.Set("tls_fingerprint", pin, where("FINGERPRINT"), where("FINGERPRINT"));
    else b.Warn(where("FINGERPRINT") + ": not a SHA-256 fingerprint; not carried over");
  } else if (mode != TlsMode::kNone) {
    b.Warn(where("SECURETRANSFER") + ": dma did not verify the smarthost's certificate; relay does "
           "(the system's CAs, and the name " + host + "): if it is self-signed, set tls_ca_file or "
           "tls_fingerprint");
  }
  if (const Setting* s = get("CERTFILE")) {
    b.Set("tls_cert_file", s->value, where("CERTFILE"), where("CERTFILE"));
    b.Set("tls_key_file", s->value, where("CERTFILE") + " (the key is in the same file)", where("CERTFILE"));
  }
  if (get("INSECURE"))
    b.Warn(where("INSECURE") + ": dma allowed the login without TLS; relay never sends the password "
           "unencrypted, except to a smarthost on loopback with auth_without_tls = yes");

  if (const Setting* ap = get("AUTHPATH")) {
    std::string name = BaseName(ap->value);
    const std::string* auth = FindFile(src, name);
    if (!auth) {
      if (!src.unreadable.count(name))
        b.Warn(where("AUTHPATH") + " " + ap->value + ": not found; no login imported");
    } else {
      bool found = false;
      int ln = 0;
      for (std::string_view raw : Lines(*auth)) {
        ++ln;
        if (raw.empty() || raw.front() == '#') continue;  // dma: comments only at the start
        size_t bar = raw.find('|');
        size_t colon = bar == std::string_view::npos ? bar : raw.find(':', bar + 1);
        if (bar == std::string_view::npos || colon == std::string_view::npos) {
          b.Warn(name + ":" + std::to_string(ln) + ": not 'user|smarthost:password'; ignored");
          continue;
        }
        std::string_view ahost = Trim(raw.substr(bar + 1, colon - bar - 1));
        if (!EqualsIgnoreCase(ahost, host)) continue;
        if (found) continue;
        found = true;
        b.auth_user = std::string(raw.substr(0, bar));
        b.auth_from = name + ":" + std::to_string(ln) + " (user|" + host + ")";
        b.secret = std::string(raw.substr(colon + 1));
        b.secret_from = name + ":" + std::to_string(ln);
      }
      if (!found) b.Warn(where("AUTHPATH") + ": " + name + " has no line for " + host + "; no login imported");
    }
  }

  std::string mailname_from;
  if (const Setting* m = get("MASQUERADE")) {
    std::string v = m->value;
    size_t at = v.find('@');
    std::string dom = at == std::string::npos ? v : v.substr(at + 1);
    if (at != std::string::npos)
      b.Warn(where("MASQUERADE") + " " + v + ": relay does not rewrite every sender to the user " +
             v.substr(0, at) + "; only the domain is carried over");
    if (!dom.empty()) b.Set("domain", dom, where("MASQUERADE"), where("MASQUERADE"));
  }
  if (const Setting* m = get("MAILNAME")) {
    if (!m->value.empty() && m->value.front() == '/') {
      if (m->value != "/etc/mailname")
        b.Warn(where("MAILNAME") + " " + m->value + ": relay takes its domain from /etc/mailname; "
               "set domain and helo_name to the name in " + m->value);
    } else if (!m->value.empty()) {
      b.Set("helo_name", m->value, where("MAILNAME"), where("MAILNAME"));
      if (!b.Has("domain")) b.Set("domain", m->value, where("MAILNAME"), where("MAILNAME"));
    }
  }
  if (const Setting* a = get("ALIASES"); a && a->value != "/etc/aliases")
    b.Set("aliases", a->value, where("ALIASES"), where("ALIASES"));
  if (get("SPOOLDIR"))
    b.Warn(where("SPOOLDIR") + ": relay has its own spool (spool_dir); messages still in " +
           get("SPOOLDIR")->value + " are not moved: flush them with 'dma -q' first");
  if (get("DEFER"))
    b.Warn(where("DEFER") + ": relay hands every message to relayd at once; to queue only, run "
           "sendmail -odq; not carried over");
  if (get("FULLBOUNCE"))
    b.Warn(where("FULLBOUNCE") + ": relay's bounces carry the original up to bounce_size_limit "
           "(50000 bytes by default); not carried over");
  static const std::set<std::string> kKnown = {
      "SMARTHOST", "PORT", "SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS", "FINGERPRINT", "CERTFILE",
      "INSECURE", "AUTHPATH", "MASQUERADE", "MAILNAME", "ALIASES", "SPOOLDIR", "DEFER", "FULLBOUNCE",
      "NULLCLIENT",  // relay is always a null client
      "SECURE"};     // the opposite of INSECURE: relay's only way
  for (const auto& [k, s] : set)
    if (!kKnown.count(k))
      b.Warn("dma.conf:" + std::to_string(s.line) + ": " + Printable(k) + ": not a dma setting relay knows; not carried over");
  return Status::Ok();
}

// ---------------------------------------------------------------- Postfix

struct PostfixParam {
  std::string value;
  int line = 0;
};

class PostfixConf {
 public:
  explicit PostfixConf(const std::string& text) {
    int n = 0;
    std::string* cur = nullptr;
    for (std::string_view raw : Lines(text)) {
      ++n;
      std::string_view t = Trim(raw);
      if (t.empty() || t.front() == '#') continue;
      if (raw.front() == ' ' || raw.front() == '\t') {
        if (cur) *cur += (cur->empty() ? "" : " ") + std::string(t);
        continue;
      }
      size_t eq = t.find('=');
      if (eq == std::string_view::npos) {
        bad_lines.push_back(n);
        cur = nullptr;
        continue;
      }
      std::string name(Trim(t.substr(0, eq)));
      params[name] = {std::string(Trim(t.substr(eq + 1))), n};
      cur = &params[name].value;
    }
  }

  const PostfixParam* Get(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  }

  // The value with $name, ${name} and $(name) expanded; nullopt when a
  // name has no value that can be known here (myhostname unset, ...).
  std::optional<std::string> Expand(const std::string& value, int depth = 0) const {
    if (depth > 20) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] != '$' || i + 1 >= value.size()) {
        out += value[i];
        continue;
      }
      std::string name;
      char c = value[i + 1];
      if (c == '{' || c == '(') {
        char close = c == '{' ? '}' : ')';
        size_t e = value.find(close, i + 2);
        if (e == std::string::npos) return std::nullopt;
        name = value.substr(i + 2, e - i - 2);
        i = e;
      } else if (c == '$') {
        out += '$';
        ++i;
        continue;
      } else {
        size_t e = i + 1;
        while (e < value.size() && (std::isalnum(static_cast<unsigned char>(value[e])) || value[e] == '_')) ++e;
        name = value.substr(i + 1, e - i - 1);
        i = e - 1;
      }
      // ${name?text} and ${name:text}: text when name is (or is not) set.
      size_t q = name.find_first_of("?:");
      if (q != std::string::npos) {
        std::string base = name.substr(0, q), text = name.substr(q + 1);
        std::optional<std::string> v = Lookup(base, depth);
        bool set = v && !v->empty();
        if ((name[q] == '?') == set) {
          std::optional<std::string> t = Expand(text, depth + 1);
          if (!t) return std::nullopt;
          out += *t;
        }
        continue;
      }
      std::optional<std::string> v = Lookup(name, depth);
      if (!v) return std::nullopt;
      out += *v;
    }
    return out;
  }

  std::optional<std::string> Lookup(const std::string& name, int depth) const {
    if (const PostfixParam* p = Get(name)) return Expand(p->value, depth + 1);
    if (name == "mydomain") {
      std::optional<std::string> h = Lookup("myhostname", depth + 1);
      if (!h) return std::nullopt;
      size_t dot = h->find('.');
      if (dot == std::string::npos) return std::nullopt;
      return h->substr(dot + 1);
    }
    if (name == "myorigin") return Lookup("myhostname", depth + 1);
    if (name == "config_directory") return std::string("/etc/postfix");
    return std::nullopt;  // myhostname and others: this host's, unknown here
  }

  std::map<std::string, PostfixParam> params;
  std::vector<int> bad_lines;
};

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

// ---------------------------------------------------------------- edge helpers

const char* MainFile(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return "ssmtp.conf";
    case ImportKind::kNullmailer: return "remotes";
    case ImportKind::kMsmtp: return "msmtprc";
    case ImportKind::kDma: return "dma.conf";
    case ImportKind::kPostfix: return "main.cf";
    case ImportKind::kAuto: break;
  }
  return "";
}

// The files beside the main one that the peer reads itself.
std::vector<std::string> SiblingFiles(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return {"revaliases"};
    case ImportKind::kNullmailer:
      return {"adminaddr", "defaultdomain", "defaulthost", "me", "helohost", "idhost", "allmailfrom",
              "pausetime", "maxpause", "sendtimeout", "queuelifetime"};
    default: return {};
  }
}

ImportKind KindFromName(const std::string& name) {
  if (name == "ssmtp.conf" || name == "revaliases") return ImportKind::kSsmtp;
  if (name == "remotes") return ImportKind::kNullmailer;
  if (name == "msmtprc" || name == ".msmtprc") return ImportKind::kMsmtp;
  if (name == "dma.conf") return ImportKind::kDma;
  if (name == "main.cf") return ImportKind::kPostfix;
  return ImportKind::kAuto;
}

ImportKind KindFromContent(const std::string& text) {
  for (std::string_view raw : Lines(text)) {
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    size_t eq = t.find('=');
    std::string_view before_eq = eq == std::string_view::npos ? t : Trim(t.substr(0, eq));
    if (EqualsIgnoreCase(before_eq, "mailhub")) return ImportKind::kSsmtp;
    if (before_eq == "relayhost") return ImportKind::kPostfix;
    auto [word, rest] = FirstWord(t);
    if (word == "SMARTHOST") return ImportKind::kDma;
    if (word == "account" || word == "defaults") return ImportKind::kMsmtp;
    std::vector<std::string_view> w = Words(t);
    if (w.size() >= 2 && (w[1] == "smtp" || w[1] == "qmqp")) return ImportKind::kNullmailer;
  }
  return ImportKind::kAuto;
}

void ReadOptional(Env* env, const std::string& path, const std::string& key, ImportSource* src) {
  if (src->files.count(key)) return;
  std::string text;
  bool missing = false;
  Status s = env->ReadFile(path, &text, &missing);
  if (s.ok()) src->files[key] = std::move(text);
  else if (!missing) src->unreadable[key] = s.message();
}

// Writes data to path, which must not exist: a temporary file beside it,
// synced, given to uid:gid when chown is set, then renamed without replacing.
Status WriteNewFile(Env* env, const std::string& path, const std::string& data, mode_t mode, bool chown,
                    uid_t uid, gid_t gid) {
  std::string tmp = path + ".import.tmp";
  env->RemoveFile(tmp);  // a leftover from an interrupted run
  std::unique_ptr<WritableFile> f;
  bool exists = false;
  Status s = env->NewExclusiveFile(tmp, mode, &f, &exists);
  if (!s.ok()) return s;
  s = f->Append(data);
  if (s.ok()) s = f->Sync();
  Status c = f->Close();
  if (s.ok()) s = c;
  if (s.ok() && chown && ::chown(tmp.c_str(), uid, gid) != 0) s = Status::FromErrno(errno, "chown " + tmp);
  if (s.ok()) {
    s = env->RenameNoReplace(tmp, path, &exists);
    if (!s.ok() && exists) s = Status::TempFail(path + " appeared meanwhile: not overwritten");
  }
  if (s.ok()) s = env->SyncDir(DirName(path));
  if (!s.ok()) env->RemoveFile(tmp);
  return s;
}

void Err(const std::string& msg) { std::fprintf(stderr, "relayctl: %s\n", msg.c_str()); }

int ImportUsage(const std::string& why) {
  if (!why.empty()) Err(why);
  std::fprintf(stderr, "usage: relayctl [-C FILE] import [--write] [--secret-file PATH] "
                       "[--from ssmtp|nullmailer|msmtp|dma|postfix] FILE|DIR\n");
  return EX_USAGE;
}

}  // namespace

const char* ImportKindName(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return "ssmtp";
    case ImportKind::kNullmailer: return "nullmailer";
    case ImportKind::kMsmtp: return "msmtp";
    case ImportKind::kDma: return "dma";
    case ImportKind::kPostfix: return "postfix";
    case ImportKind::kAuto: break;
  }
  return "auto";
}

bool ParseImportKind(std::string_view name, ImportKind* kind) {
  for (ImportKind k : {ImportKind::kSsmtp, ImportKind::kNullmailer, ImportKind::kMsmtp, ImportKind::kDma,
                       ImportKind::kPostfix}) {
    if (EqualsIgnoreCase(name, ImportKindName(k))) {
      *kind = k;
      return true;
    }
  }
  return false;
}

ImportKind DetectImportKind(const ImportSource& src) {
  if (src.kind != ImportKind::kAuto) return src.kind;
  for (const char* main : {"ssmtp.conf", "remotes", "msmtprc", "dma.conf", "main.cf"})
    if (src.files.count(main) || src.unreadable.count(main)) return KindFromName(main);
  for (const auto& [name, text] : src.files)
    if (ImportKind k = KindFromContent(text); k != ImportKind::kAuto) return k;
  return ImportKind::kAuto;
}

std::vector<std::string> ImportCompanionFiles(const ImportSource& src) {
  std::vector<std::string> out;
  ImportKind kind = DetectImportKind(src);
  if (kind == ImportKind::kDma) {
    if (const std::string* conf = FindFile(src, "dma.conf")) {
      for (std::string_view raw : Lines(*conf)) {
        std::string_view l = Trim(raw.substr(0, raw.find('#')));
        auto [word, value] = FirstWord(l);
        if (word == "AUTHPATH" && !value.empty()) out.emplace_back(value);
      }
    }
  } else if (kind == ImportKind::kPostfix) {
    if (const std::string* text = FindFile(src, "main.cf")) {
      PostfixConf pf(*text);
      if (const PostfixParam* p = pf.Get("smtp_sasl_password_maps")) {
        std::optional<std::string> v = pf.Expand(p->value);
        if (v) {
          std::vector<std::string_view> maps = Words(*v, " \t,");
          if (!maps.empty()) {
            std::string_view m = maps[0];
            size_t colon = m.find(':');
            std::string type(colon == std::string_view::npos ? "hash" : m.substr(0, colon));
            std::string path(colon == std::string_view::npos ? m : m.substr(colon + 1));
            if (type != "static" && !path.empty() && path.front() == '/') out.push_back(path);
          }
        }
      }
    }
  }
  return out;
}

Status ImportConfig(const ImportSource& src, const ImportOptions& opts, ImportResult* out) {
  *out = ImportResult();
  ImportKind kind = DetectImportKind(src);
  if (kind == ImportKind::kAuto) {
    if (src.files.empty() && src.unreadable.empty()) return Status::DataErr("no files to import");
    return Status::DataErr("not the configuration of ssmtp, nullmailer, msmtp, dma or Postfix "
                           "(no ssmtp.conf, remotes, msmtprc, dma.conf or main.cf): name it with --from");
  }
  const char* main = MainFile(kind);
  if (!src.files.count(main) && src.unreadable.count(main))
    return Status::DataErr(std::string(main) + " could not be read: " + src.unreadable.at(main));
  Builder b;
  CheckUnreadable(src, b);
  Status s;
  switch (kind) {
    case ImportKind::kSsmtp: s = ImportSsmtp(src, b); break;
    case ImportKind::kNullmailer: s = ImportNullmailer(src, b); break;
    case ImportKind::kMsmtp: s = ImportMsmtp(src, b); break;
    case ImportKind::kDma: s = ImportDma(src, b); break;
    case ImportKind::kPostfix: s = ImportPostfix(src, b); break;
    case ImportKind::kAuto: break;
  }
  if (!s.ok()) return s;
  return b.Finish(ImportKindName(kind), src.origin, opts, out);
}

Status ReadImportSource(Env* env, const std::string& path, ImportKind forced, ImportSource* src) {
  *src = ImportSource();
  src->kind = forced;
  src->origin = path;
  std::vector<std::string> names;
  std::string dir;
  ImportKind kind = forced;
  Status ls = env->ListDir(path, &names);
  if (ls.ok()) {
    dir = path;
    std::sort(names.begin(), names.end());
    if (kind == ImportKind::kAuto) {
      for (const char* main : {"ssmtp.conf", "remotes", "msmtprc", "dma.conf", "main.cf"})
        if (std::find(names.begin(), names.end(), main) != names.end()) {
          kind = KindFromName(main);
          break;
        }
    }
    if (kind == ImportKind::kAuto)
      return Status::DataErr(path + ": no ssmtp.conf, remotes, msmtprc, dma.conf or main.cf in it "
                             "(name the peer with --from)");
    std::string main = MainFile(kind);
    std::string text;
    bool missing = false;
    Status s = env->ReadFile(dir + "/" + main, &text, &missing);
    if (!s.ok()) return Status(s).Prefixed("cannot read the " + std::string(ImportKindName(kind)) + " configuration");
    src->files[main] = std::move(text);
  } else {
    std::string text;
    bool missing = false;
    Status s = env->ReadFile(path, &text, &missing);
    if (!s.ok()) {
      // A directory that cannot be listed reads as "Is a directory".
      if (s.message().find(std::strerror(EISDIR)) != std::string::npos) return ls.Prefixed("cannot read");
      return s.Prefixed("cannot read");
    }
    dir = DirName(path);
    std::string name = BaseName(path);
    if (kind == ImportKind::kAuto) kind = KindFromName(name);
    if (kind == ImportKind::kAuto) kind = KindFromContent(text);
    if (kind == ImportKind::kAuto)
      return Status::DataErr(path + ": not a configuration file of ssmtp, nullmailer, msmtp, dma or "
                             "Postfix (name the peer with --from)");
    // A file named otherwise (ssmtp.conf.orig, ~/.msmtprc) counts as the main one.
    std::string main = MainFile(kind);
    if (name != main && KindFromName(name) == kind && name != ".msmtprc") {
      // revaliases given: read ssmtp.conf beside it.
      src->files[name] = std::move(text);
      Status s2 = env->ReadFile(dir + "/" + main, &text, &missing);
      if (!s2.ok()) return s2.Prefixed("cannot read the " + std::string(ImportKindName(kind)) + " configuration");
    }
    src->files[main] = std::move(text);
  }
  src->kind = kind;
  for (const std::string& sib : SiblingFiles(kind)) ReadOptional(env, dir + "/" + sib, sib, src);
  for (const std::string& p : ImportCompanionFiles(*src)) {
    std::string key = BaseName(p);
    ReadOptional(env, dir + "/" + key, key, src);  // beside the main file first
    if (!src->files.count(key) && !src->unreadable.count(key)) ReadOptional(env, p, key, src);
  }
  return Status::Ok();
}

int RunImportCommand(Env* env, const std::vector<std::string>& args, const std::string& config_path) {
  bool write = false;
  std::string secret_file = "/etc/relay/smarthost.secret";
  std::string input;
  ImportKind forced = ImportKind::kAuto;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--write") {
      write = true;
    } else if (a == "--secret-file" || a.rfind("--secret-file=", 0) == 0) {
      if (a == "--secret-file") {
        if (i + 1 >= args.size()) return ImportUsage("--secret-file needs a path");
        secret_file = args[++i];
      } else {
        secret_file = a.substr(14);
      }
    } else if (a == "--from" || a.rfind("--from=", 0) == 0) {
      std::string k;
      if (a == "--from") {
        if (i + 1 >= args.size()) return ImportUsage("--from needs ssmtp, nullmailer, msmtp, dma or postfix");
        k = args[++i];
      } else {
        k = a.substr(7);
      }
      if (!ParseImportKind(k, &forced)) return ImportUsage("--from " + k + ": use ssmtp, nullmailer, msmtp, dma or postfix");
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: relayctl [-C FILE] import [--write] [--secret-file PATH] "
                  "[--from ssmtp|nullmailer|msmtp|dma|postfix] FILE|DIR\n"
                  "See relayctl(8).\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return ImportUsage("unknown option " + a);
    } else if (input.empty()) {
      input = a;
    } else {
      return ImportUsage("one FILE or DIR only");
    }
  }
  if (input.empty()) return ImportUsage("");
  if (secret_file.empty() || secret_file[0] != '/') return ImportUsage("--secret-file must be an absolute path");

  ImportSource src;
  Status s = ReadImportSource(env, input, forced, &src);
  if (!s.ok()) {
    Err(s.message());
    return s.kind() == Status::Kind::kTempFail ? EX_NOINPUT : s.exit_code();
  }
  ImportOptions opts;
  opts.secret_file = secret_file;
  ImportResult r;
  s = ImportConfig(src, opts, &r);
  if (!s.ok()) {
    Err(input + ": " + s.message());
    return s.exit_code();
  }
  Config cfg;
  ParseConfig(r.relay_conf, "imported", &cfg);

  auto report = [&]() {
    if (!r.aliases.empty()) {
      Err("add to the aliases file (" + cfg.aliases + "):");
      std::fputs(r.aliases.c_str(), stderr);
    }
    for (const std::string& w : r.warnings) Err("warning: " + w);
  };

  if (!write) {
    std::fputs(r.relay_conf.c_str(), stdout);
    std::fflush(stdout);
    report();
    if (!r.secret.empty())
      Err("the password for " + cfg.auth_user + " would go to " + secret_file +
          " (mode 0600, owned by the relay user); it is not shown. --write writes it, and " + config_path);
    else
      Err("nothing written; run with --write to write " + config_path);
    return 0;
  }

  // Nothing is replaced: an existing file must already hold the same bytes.
  auto check = [&](const std::string& path, const std::string& data, bool* same) -> Status {
    std::string old;
    bool missing = false;
    *same = false;
    Status rs = env->ReadFile(path, &old, &missing);
    if (missing) return Status::Ok();
    if (!rs.ok()) return rs;
    if (old == data) {
      *same = true;
      return Status::Ok();
    }
    return Status::Config(path + " exists and differs: not overwritten (move it away, or merge by hand "
                          "from the output of relayctl import without --write)");
  };
  std::string secret_data = r.secret.empty() ? "" : r.secret + "\n";
  bool conf_same = false, secret_same = false;
  s = check(config_path, r.relay_conf, &conf_same);
  if (s.ok() && !secret_data.empty()) s = check(secret_file, secret_data, &secret_same);
  if (!s.ok()) {
    Err(s.message());
    return EX_CANTCREAT;
  }

  if (!secret_data.empty() && !secret_same) {
    // The relay user (the spool's owner) reads it; root while there is no spool.
    uid_t uid = 0;
    gid_t gid = 0;
    std::string owner = "root";
    struct stat st;
    std::string q = SpoolPaths(cfg.spool_dir).queue();
    if (::stat(q.c_str(), &st) == 0 || ::stat(cfg.spool_dir.c_str(), &st) == 0) {
      uid = st.st_uid;
      gid = st.st_gid;
      if (struct passwd* pw = ::getpwuid(uid)) {
        gid = pw->pw_gid;
        owner = pw->pw_name;
      } else {
        owner = std::to_string(uid);
      }
    }
    bool root = ::geteuid() == 0;
    std::string dir = DirName(secret_file);
    struct stat dst;
    if (::stat(dir.c_str(), &dst) != 0) {
      s = env->CreateDir(dir, 0755);
      if (!s.ok()) {
        Err(s.message());
        return EX_CANTCREAT;
      }
    }
    s = WriteNewFile(env, secret_file, secret_data, 0600, root, uid, gid);
    if (!s.ok()) {
      Err(s.message());
      return EX_CANTCREAT;
    }
    std::printf("wrote %s (the password for %s; mode 0600, owner %s)\n", secret_file.c_str(),
                cfg.auth_user.c_str(), root ? owner.c_str() : "you");
    if (!root && uid != ::geteuid())
      Err("warning: " + secret_file + " must belong to the relay user: run chown " + owner + " " + secret_file);
  } else if (secret_same) {
    std::printf("%s: unchanged (it already holds this password)\n", secret_file.c_str());
  }

  if (conf_same) {
    std::printf("%s: unchanged (it already holds this configuration)\n", config_path.c_str());
  } else {
    s = WriteNewFile(env, config_path, r.relay_conf, 0644, false, 0, 0);
    if (!s.ok()) {
      Err(s.message());
      return EX_CANTCREAT;
    }
    std::printf("wrote %s (mode 0644): %zu smarthost%s%s\n", config_path.c_str(), cfg.smarthosts.size(),
                cfg.smarthosts.size() == 1 ? "" : "s", cfg.auth_user.empty() ? "" : (", login as " + cfg.auth_user).c_str());
  }
  std::fflush(stdout);
  report();
  if (cfg.auth_user.size() && r.secret.empty() && cfg.auth_password_command.empty())
    Err("write the password to " + secret_file + " (mode 0600, owned by the relay user)");
  Err("next: relayctl check, then relayctl test ADDRESS");
  return 0;
}

}  // namespace relay
