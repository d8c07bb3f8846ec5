// relayctl import from msmtp: msmtprc, its default account.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relay/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- msmtp

namespace {

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

}  // namespace

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

}  // namespace relay::import_internal
