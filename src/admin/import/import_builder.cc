// The Builder of relayctl import: the relay.conf being made (the class is
// in import_internal.h).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- builder

void Builder::Warn(const std::string& w) {
  if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(w);
}

// Sets key (an earlier value is replaced; tls_fingerprint adds). Returns
// false, with a warning naming `setting`, when relay refuses the value.
bool Builder::Set(const std::string& key, const std::string& value, const std::string& from,
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

bool Builder::Has(const std::string& key) const {
  for (const Entry& e : entries_)
    if (e.key == key) return true;
  return false;
}

bool Builder::AddHost(const std::string& host, unsigned port, TlsMode tls, const std::string& from,
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

Status Builder::Finish(const std::string& kind, const std::string& origin, const ImportOptions& opts,
                       ImportResult* out) {
  if (hops_.empty()) return Status::DataErr("no relay host to import");
  FinishAuth(opts);
  FinishRetries();

  static const char* const kOrder[] = {
      "provider", "tls_ca_file", "tls_ca_dir", "tls_cert_file", "tls_key_file", "tls_fingerprint",
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

std::string Builder::HopText(const Hop& h) {
  std::string host = h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
  return host + ":" + std::to_string(h.port) + " " + TlsModeName(h.tls);
}

bool Builder::Valid(const std::string& key, const std::string& value, std::string* why) {
  if (value.empty()) {
    *why = "empty";
    return false;
  }
  Config c;
  std::string text = key + " = " + value + "\n";
  // Rules across keys are checked in Finish, not here.
  if (key == "auth_user") text += "auth_password_command = true\n";
  if (key == "provider") text += "auth_user = x@example.com\n";
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

// With a provider, relay keeps the token: auth_user and the provider,
// no password, and the one line that says how to fill the token store.
bool Builder::FinishOAuth() {
  if (provider.empty()) return false;
  if (auth_user.empty()) {
    Warn(provider_from + ": an OAuth2 login without a user name; set auth_user to the mailbox address, "
         "then run relayctl oauth login --provider " + provider);
    provider.clear();
    return true;
  }
  if (Set("auth_user", auth_user, auth_from, auth_from))
    Set("provider", provider, provider_from + "; the token is kept in relay's token store", provider_from);
  secret.clear();
  if (!oauth_next.empty()) Warn(oauth_next);
  return true;
}

void Builder::FinishAuth(const ImportOptions& opts) {
  if (FinishOAuth()) return;
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

void Builder::FinishRetries() {
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

}  // namespace relay::import_internal
