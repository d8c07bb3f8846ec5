// relayctl import from msmtp: msmtprc, its default account.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/strings.h"

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

// msmtprc as msmtp reads it: the defaults, then accounts that start from
// the defaults and take the settings of the accounts named after a colon.
struct Msmtprc {
  MsmtpAccount defaults;
  std::map<std::string, MsmtpAccount> accounts;
  std::map<std::string, std::vector<std::string>> parents_of;
  std::vector<std::string> order;  // the accounts as first defined
};

// "account NAME [: PARENT, ...]" on line n: the account it starts.
MsmtpAccount* StartMsmtpAccount(Msmtprc& rc, std::string_view rest, int n, Builder& b) {
  std::string_view name = rest, parents;
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    name = Trim(rest.substr(0, colon));
    parents = rest.substr(colon + 1);
  }
  MsmtpAccount a = rc.defaults;
  std::string nm(name);
  rc.parents_of[nm].clear();
  for (std::string_view p : Split(parents, ',')) {
    std::string pn(Trim(p));
    if (pn.empty()) continue;
    rc.parents_of[nm].push_back(pn);
    auto it = rc.accounts.find(pn);
    if (it == rc.accounts.end()) {
      b.Warn("msmtprc:" + std::to_string(n) + ": account " + std::string(name) + " inherits from " + pn +
             ", which is not defined before it; ignored, as msmtp would refuse it");
      continue;
    }
    for (const auto& [k, v] : it->second) a[k] = v;
  }
  if (!rc.accounts.count(nm)) rc.order.push_back(nm);
  rc.accounts[nm] = a;
  return &rc.accounts[nm];
}

Msmtprc ParseMsmtprc(const std::string& text, Builder& b) {
  Msmtprc rc;
  MsmtpAccount* cur = &rc.defaults;
  int n = 0;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    auto [cmd, rest] = FirstWord(t);
    std::string c(cmd);
    if (c == "defaults") cur = &rc.defaults;
    else if (c == "account") cur = StartMsmtpAccount(rc, rest, n, b);
    else (*cur)[c] = {MsmtpArg(rest), n};
  }
  return rc;
}

// The account msmtp sends with when given none: "default". Else the only
// account, or the settings outside any account (*chosen is then "").
Status ChooseMsmtpAccount(const Msmtprc& rc, Builder& b, std::string* chosen) {
  *chosen = "default";
  if (rc.accounts.count(*chosen)) return Status::Ok();
  if (rc.accounts.size() == 1) {
    *chosen = rc.order.front();
    b.Warn("msmtprc: no account 'default'; imported the only account, " + *chosen);
  } else if (rc.accounts.empty() && rc.defaults.count("host")) {
    chosen->clear();
  } else {
    std::string names;
    for (const std::string& a : rc.order) names += (names.empty() ? "" : ", ") + a;
    return Status::DataErr("msmtprc has no account 'default' (nor 'account default : NAME'); "
                           "accounts: " + (names.empty() ? "none" : names) + ": use relayctl import "
                           "on a copy that names the one to import as default");
  }
  return Status::Ok();
}

// relay has one smarthost setup: a warning for each account that the
// chosen one does not inherit from.
void WarnOtherMsmtpAccounts(const Msmtprc& rc, const std::string& chosen, Builder& b) {
  std::set<std::string> ancestors;
  std::vector<std::string> todo = {chosen};
  while (!todo.empty()) {
    std::string a = todo.back();
    todo.pop_back();
    if (!ancestors.insert(a).second) continue;
    if (auto it = rc.parents_of.find(a); it != rc.parents_of.end())
      for (const std::string& p : it->second) todo.push_back(p);
  }
  for (const std::string& a : rc.order) {
    if (ancestors.count(a)) continue;
    b.Warn("msmtprc: account " + a + ": relay has one smarthost setup, the default account's; not "
           "carried over");
  }
}

// The chosen account and the Builder, with what each section asks.
struct MsmtpInput {
  const MsmtpAccount& acc;
  Builder& b;

  const MsmtpSetting* Get(const char* key) const {
    auto it = acc.find(key);
    return it == acc.end() ? nullptr : &it->second;
  }
  static std::string Where(const MsmtpSetting* s, const char* key) {
    return "msmtprc:" + std::to_string(s->line) + ": " + key;
  }
};

// msmtp's on: the word on (or yes, ...), or nothing.
bool On(const MsmtpSetting* s) { return s && (s->value.empty() || IsYes(s->value)); }

// ---------------------------------------------------------------- the host and TLS

// The smarthost line: host, port, and TLS as tls and tls_starttls meant it.
Status MsmtpHost(const MsmtpInput& in, const std::string& chosen) {
  const MsmtpSetting* host = in.Get("host");
  if (!host || host->value.empty())
    return Status::DataErr("msmtprc: account " + (chosen.empty() ? std::string("(none)") : chosen) +
                           " names no host (the relay host): nothing to import");
  if (const MsmtpSetting* p = in.Get("protocol"); p && p->value == "lmtp")
    return Status::DataErr(in.Where(p, "protocol") + " lmtp: relay relays over SMTP only");

  bool tls = On(in.Get("tls"));
  const MsmtpSetting* st = in.Get("tls_starttls");
  bool starttls = !st || On(st);
  TlsMode mode = !tls ? TlsMode::kNone : starttls ? TlsMode::kStartTls : TlsMode::kSmtps;
  unsigned port = 0;
  const MsmtpSetting* ps = in.Get("port");
  if (ps && !ParsePort(ps->value, &port))
    return Status::DataErr(in.Where(ps, "port") + " '" + ps->value + "' is not a port number");
  std::string from = in.Where(host, "host") + " " + host->value;
  if (!ps) {
    port = mode == TlsMode::kSmtps ? 465 : 25;
    from += ", msmtp's default port " + std::to_string(port);
  }
  from += mode == TlsMode::kNone ? ", tls off" : mode == TlsMode::kSmtps ? ", tls on, tls_starttls off" : ", tls on";
  if (!in.b.AddHost(host->value, port, mode, from, in.Where(host, "host")))
    return Status::DataErr(in.Where(host, "host") + " " + host->value + " is not a host name relay can use");
  if (mode == TlsMode::kNone && !IsLoopback(host->value) && !in.Get("user"))
    in.b.Warn("msmtprc: tls off: mail went to " + host->value + " without TLS, and still will (tls "
              "none); set starttls or smtps if the server offers it");
  return Status::Ok();
}

// The CAs, the pin, and the client certificate.
void MsmtpTls(const MsmtpInput& in) {
  if (const MsmtpSetting* s = in.Get("tls_trust_file"))
    SetCaFile(in.b, s->value, in.Where(s, "tls_trust_file"), in.Where(s, "tls_trust_file"));
  if (const MsmtpSetting* s = in.Get("tls_fingerprint")) {
    size_t digits = 0;
    std::string pin = Sha256Pin(s->value, &digits);
    if (!pin.empty())
      in.b.Set("tls_fingerprint", pin, in.Where(s, "tls_fingerprint"), in.Where(s, "tls_fingerprint"));
    else
      in.b.Warn(in.Where(s, "tls_fingerprint") + ": " + DigestName(digits) + " fingerprint; relay pins "
                "SHA-256 only: put the certificate's SHA-256 fingerprint in tls_fingerprint");
  }
  if (const MsmtpSetting* s = in.Get("tls_certcheck"); s && IsNo(s->value) && !in.Get("tls_fingerprint"))
    in.b.Warn(in.Where(s, "tls_certcheck") + " off: relay always verifies the certificate (the system's "
              "CAs and the name " + in.Get("host")->value + "); if it is self-signed, set tls_ca_file or "
              "tls_fingerprint");
  const MsmtpSetting* cert = in.Get("tls_cert_file");
  const MsmtpSetting* key = in.Get("tls_key_file");
  if (cert && key) {
    in.b.Set("tls_cert_file", cert->value, in.Where(cert, "tls_cert_file"), in.Where(cert, "tls_cert_file"));
    in.b.Set("tls_key_file", key->value, in.Where(key, "tls_key_file"), in.Where(key, "tls_key_file"));
  } else if (cert || key) {
    const MsmtpSetting* s = cert ? cert : key;
    in.b.Warn(in.Where(s, cert ? "tls_cert_file" : "tls_key_file") + ": relay needs both the client "
              "certificate and its key; not carried over");
  }
}

// ---------------------------------------------------------------- the login

// The command that fills relay's token store, guessed from the helper
// msmtp's passwordeval ran (oama, mutt_oauth2.py, sasl-xoauth2's files).
std::string OAuthNextStep(const std::string& provider, const std::string& eval) {
  std::string login = "relayctl oauth login --provider " + provider;
  if (eval.find("oama") != std::string::npos)
    return "then import oama's token: gpg --decrypt ~/.local/var/oama/ADDRESS.oama | relayctl oauth import "
           "--format oama --client-id ID -, or log in anew: " + login;
  if (eval.find("mutt_oauth2") != std::string::npos)
    return "then import mutt_oauth2.py's token file: gpg --decrypt TOKENFILE | relayctl oauth import --format "
           "mutt_oauth2 -, or log in anew: " + login;
  return "then log in once: " + login + " (or relayctl oauth import a token file another helper made)";
}

// auth oauthbearer|xoauth2 with a passwordeval that printed the token: to
// a smarthost relay has a preset for, relay keeps the token itself. True
// when the login was imported so.
bool MsmtpOAuthLogin(const MsmtpInput& in) {
  const MsmtpSetting* auth = in.Get("auth");
  const MsmtpSetting* host = in.Get("host");
  if (!auth || !IsOAuthMechanism(auth->value) || !host) return false;
  std::string provider = ProviderForHost(host->value);
  if (provider.empty()) return false;  // no preset: the token keeps coming from the command
  Builder& b = in.b;
  if (const MsmtpSetting* user = in.Get("user")) {
    b.auth_user = user->value;
    b.auth_from = in.Where(user, "user");
  }
  b.provider = provider;
  b.provider_from = in.Where(auth, "auth") + " " + auth->value + " to " + host->value;
  const MsmtpSetting* eval = in.Get("passwordeval");
  const MsmtpSetting* pw = in.Get("password");
  std::string how = eval ? in.Where(eval, "passwordeval") + " (a token helper)" : "msmtp's OAuth2 login";
  if (pw) how = in.Where(pw, "password") + " (a fixed token)";
  b.oauth_next = how + ": not carried over: relay gets and refreshes the OAuth2 token itself (provider = " +
                 provider + "); " + OAuthNextStep(provider, eval ? eval->value : "");
  return true;
}

// auth, user, and the password or the command that prints it.
void MsmtpLogin(const MsmtpInput& in) {
  Builder& b = in.b;
  const MsmtpSetting* auth = in.Get("auth");
  const MsmtpSetting* user = in.Get("user");
  bool auth_off = auth && IsNo(auth->value);
  if (auth && !auth_off && !auth->value.empty() && !IsYes(auth->value))
    SetMechanism(b, auth->value, in.Where(auth, "auth"), in.Where(auth, "auth"));
  if (MsmtpOAuthLogin(in)) return;
  if (user && auth_off) {
    b.Warn(in.Where(user, "user") + ": auth is off, so msmtp did not log in; not carried over");
    return;
  }
  if (!user) return;
  b.auth_user = user->value;
  b.auth_from = in.Where(user, "user");
  const MsmtpSetting* eval = in.Get("passwordeval");
  if (const MsmtpSetting* pw = in.Get("password")) {
    b.secret = pw->value;
    b.secret_from = in.Where(pw, "password");
    if (eval) b.Warn(in.Where(eval, "passwordeval") + ": msmtp used password instead; not carried over");
  } else if (eval) {
    b.password_command = eval->value;
    b.password_command_from = in.Where(eval, "passwordeval");
    b.Warn(in.Where(eval, "passwordeval") + ": carried over as auth_password_command, which runs as the "
           "relay user with no environment but PATH (no HOME, no GPG agent): check that it works "
           "there");
  } else {
    b.Warn(in.Where(user, "user") + ": no password in msmtprc (msmtp may have found it in ~/.netrc or "
           "a keyring); put it in the password file");
  }
}

// ---------------------------------------------------------------- names and leftovers

// helo_name and domain; from and aliases are warned of: relay has neither.
void MsmtpNames(const MsmtpInput& in) {
  if (const MsmtpSetting* s = in.Get("domain"))
    in.b.Set("helo_name", s->value, in.Where(s, "domain"), in.Where(s, "domain"));
  if (const MsmtpSetting* s = in.Get("maildomain"))
    in.b.Set("domain", s->value, in.Where(s, "maildomain"), in.Where(s, "maildomain"));
  if (const MsmtpSetting* s = in.Get("from")) {
    std::string hint;
    size_t at = s->value.rfind('@');
    if (at != std::string::npos && s->value.find('%', at) == std::string::npos && !in.b.Has("domain"))
      hint = " (set domain = " + s->value.substr(at + 1) + " if that is this host's mail domain)";
    in.b.Warn(in.Where(s, "from") + " " + Printable(s->value) + ": relay sends each message with its own "
              "sender (login@domain, or what -f gives), not one fixed address; not carried over" + hint);
  }
  if (const MsmtpSetting* s = in.Get("aliases"))
    in.b.Warn(in.Where(s, "aliases") + " " + Printable(s->value) + ": not read: import it separately, by "
              "merging its entries into relay's aliases file (/etc/aliases)");
}

// A warning for each setting the sections above do not read.
void MsmtpLeftovers(const MsmtpInput& in) {
  static const std::set<std::string> kUsed = {
      "host", "port", "tls", "tls_starttls", "tls_trust_file", "tls_fingerprint", "tls_certcheck",
      "tls_cert_file", "tls_key_file", "auth", "user", "password", "passwordeval", "from", "domain",
      "maildomain", "aliases", "protocol"};
  for (const auto& [k, s] : in.acc) {
    if (kUsed.count(k)) continue;
    if (k == "logfile" || k == "syslog" || k == "logfile_time_format") {
      in.b.Warn("msmtprc:" + std::to_string(s.line) + ": " + k + ": relayd logs to syslog (see the log "
                "key); not carried over");
      continue;
    }
    in.b.Warn("msmtprc:" + std::to_string(s.line) + ": " + Printable(k) + ": no equivalent in relay; not "
              "carried over");
  }
}

}  // namespace

Status ImportMsmtp(const ImportSource& src, Builder& b) {
  const std::string* text = nullptr;
  Status s = MainFileText(src, "msmtprc", &text);
  if (!s.ok()) return s;
  Msmtprc rc = ParseMsmtprc(*text, b);
  std::string chosen;
  s = ChooseMsmtpAccount(rc, b, &chosen);
  if (!s.ok()) return s;
  WarnOtherMsmtpAccounts(rc, chosen, b);

  const MsmtpInput in{chosen.empty() ? rc.defaults : rc.accounts.at(chosen), b};
  s = MsmtpHost(in, chosen);
  if (!s.ok()) return s;
  MsmtpTls(in);
  MsmtpLogin(in);
  MsmtpNames(in);
  MsmtpLeftovers(in);
  return Status::Ok();
}

}  // namespace relay::import_internal
