// libFuzzer target for the relay.conf parser. The input is a relay.conf.
// Besides "no crash", it checks the parser's promises:
//  - errors have the kConfig kind and start with "NAME:LINE: " (or "NAME: "
//    for checks across keys), LINE being a line of the input;
//  - an accepted file gives values that are valid by the parser's own rules,
//    and writing them out again as relay.conf parses to the same Config;
//  - the sizes and durations accepted are exactly the arithmetic values of
//    what was written (nothing wraps around).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/strings.h"

namespace {

constexpr std::string_view kName = "fuzz.conf";

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "config_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool NoControl(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return false;
  return true;
}

std::string HostText(const relay::Smarthost& h) {
  std::string out = h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
  if (h.port != 0) out += ":" + std::to_string(h.port);
  if (h.tls_set) out += std::string(" ") + relay::TlsModeName(h.tls);
  return out;
}

// relay.conf text that says what c says.
std::string Write(const relay::Config& c) {
  std::string t;
  auto put = [&t](std::string_view key, const std::string& value) {
    if (!value.empty()) t += std::string(key) + " = " + value + "\n";
  };
  put("spool_dir", c.spool_dir);
  put("domain", c.domain);
  put("aliases", c.aliases);
  put("tls", relay::TlsModeName(c.tls));
  put("message_size_limit", std::to_string(c.message_size_limit));
  for (const relay::Smarthost& h : c.smarthosts) put("smarthost", HostText(h));
  put("tls_ca_file", c.tls_ca_file);
  put("tls_ca_dir", c.tls_ca_dir);
  put("tls_cert_file", c.tls_cert_file);
  put("tls_key_file", c.tls_key_file);
  for (const std::string& f : c.tls_fingerprints) put("tls_fingerprint", f);
  put("tls_min_version", c.tls_min_version);
  put("helo_name", c.helo_name);
  put("max_connections", std::to_string(c.max_connections));
  put("max_messages_per_connection", std::to_string(c.max_messages_per_connection));
  put("retry_min", std::to_string(c.retry_min));
  put("retry_max", std::to_string(c.retry_max));
  put("queue_lifetime", std::to_string(c.queue_lifetime));
  put("bounce_size_limit", std::to_string(c.bounce_size_limit));
  put("log", c.log);
  put("timeout_connect", std::to_string(c.timeout_connect));
  put("timeout_greeting", std::to_string(c.timeout_greeting));
  put("timeout_command", std::to_string(c.timeout_command));
  put("timeout_data_init", std::to_string(c.timeout_data_init));
  put("timeout_data_block", std::to_string(c.timeout_data_block));
  put("timeout_data_done", std::to_string(c.timeout_data_done));
  put("listen_auth_failure_limit", std::to_string(c.listen_auth_failure_limit));
  put("listen_auth_failure_window", std::to_string(c.listen_auth_failure_window));
  return t;
}

void RequireSame(const relay::Config& a, const relay::Config& b) {
  Require(a.spool_dir == b.spool_dir, "spool_dir");
  Require(a.domain == b.domain, "domain");
  Require(a.aliases == b.aliases, "aliases");
  Require(a.tls == b.tls, "tls");
  Require(a.message_size_limit == b.message_size_limit, "message_size_limit");
  Require(a.smarthosts.size() == b.smarthosts.size(), "smarthost count");
  for (size_t i = 0; i < a.smarthosts.size(); ++i) {
    Require(a.smarthosts[i].host == b.smarthosts[i].host, "smarthost host");
    Require(a.smarthosts[i].port == b.smarthosts[i].port, "smarthost port");
    Require(a.smarthosts[i].tls == b.smarthosts[i].tls, "smarthost tls");
    Require(a.smarthosts[i].tls_set == b.smarthosts[i].tls_set, "smarthost tls_set");
  }
  Require(a.tls_ca_file == b.tls_ca_file, "tls_ca_file");
  Require(a.tls_ca_dir == b.tls_ca_dir, "tls_ca_dir");
  Require(a.tls_cert_file == b.tls_cert_file, "tls_cert_file");
  Require(a.tls_key_file == b.tls_key_file, "tls_key_file");
  Require(a.tls_fingerprints == b.tls_fingerprints, "tls_fingerprints");
  Require(a.tls_min_version == b.tls_min_version, "tls_min_version");
  Require(a.helo_name == b.helo_name, "helo_name");
  Require(a.max_connections == b.max_connections, "max_connections");
  Require(a.max_messages_per_connection == b.max_messages_per_connection, "max_messages_per_connection");
  Require(a.retry_min == b.retry_min, "retry_min");
  Require(a.retry_max == b.retry_max, "retry_max");
  Require(a.queue_lifetime == b.queue_lifetime, "queue_lifetime");
  Require(a.bounce_size_limit == b.bounce_size_limit, "bounce_size_limit");
  Require(a.log == b.log, "log");
  Require(a.timeout_connect == b.timeout_connect, "timeout_connect");
  Require(a.timeout_greeting == b.timeout_greeting, "timeout_greeting");
  Require(a.timeout_command == b.timeout_command, "timeout_command");
  Require(a.timeout_data_init == b.timeout_data_init, "timeout_data_init");
  Require(a.timeout_data_block == b.timeout_data_block, "timeout_data_block");
  Require(a.timeout_data_done == b.timeout_data_done, "timeout_data_done");
  Require(a.listen_auth_failure_limit == b.listen_auth_failure_limit, "listen_auth_failure_limit");
  Require(a.listen_auth_failure_window == b.listen_auth_failure_window, "listen_auth_failure_window");
}

// The value of "digits[suffix]" computed without overflow; false when it is
// not of that form or does not fit in `max`.
bool ReferenceValue(std::string_view s, std::string_view suffixes, const unsigned __int128* mults,
                    unsigned __int128 max, unsigned __int128* out) {
  unsigned __int128 mult = 1;
  if (!s.empty()) {
    size_t k = suffixes.find(s.back());
    if (k != std::string_view::npos) {
      mult = mults[k];
      s.remove_suffix(1);
    }
  }
  // ParseDuration reads a signed number and refuses negative ones, so "-0"
  // (zero) gets through; take it as the harmless quirk it is.
  if (s.size() > 1 && s.front() == '-' && s.find_first_not_of('0', 1) == std::string_view::npos)
    s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  // Leading zeros are allowed; after them, more than 30 digits cannot fit.
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  if (s.size() > 30) return false;
  unsigned __int128 v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  v *= mult;
  if (v > max) return false;
  *out = v;
  return true;
}

// A size accepted for message_size_limit is exactly its value in bytes.
void CheckSize(std::string_view value) {
  static const unsigned __int128 kMults[] = {1024, 1024, 1024 * 1024, 1024 * 1024, 1024ull * 1024 * 1024,
                                             1024ull * 1024 * 1024};
  relay::Config c;
  std::string text = "message_size_limit = " + std::string(value) + "\n";
  relay::Status s = relay::ParseConfig(text, kName, &c);
  unsigned __int128 want = 0;
  bool fits = ReferenceValue(relay::Trim(value), "kKmMgG", kMults, UINT64_MAX, &want);
  if (s.ok()) {
    Require(fits, "an accepted message_size_limit fits in 64 bits (no wrap-around)");
    Require(c.message_size_limit == static_cast<uint64_t>(want), "message_size_limit is the value written");
  }
}

// A duration accepted is exactly its value in seconds.
void CheckDuration(std::string_view value) {
  static const unsigned __int128 kMults[] = {1, 60, 3600, 86400, 7 * 86400};
  int64_t secs = -7;
  bool ok = relay::ParseDuration(value, &secs);
  unsigned __int128 want = 0;
  bool fits = ReferenceValue(value, "smhdw", kMults, INT64_MAX, &want);
  if (ok) {
    Require(fits, "an accepted duration fits in 64 bits (no overflow)");
    Require(secs == static_cast<int64_t>(want), "duration is the value written");
  } else {
    Require(secs == -7, "a refused duration leaves the output alone");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // The first line alone, as a size and as a duration.
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.size() <= 64) {
    CheckSize(first);
    CheckDuration(first);
  }

  relay::Config cfg;
  relay::Status s = relay::ParseConfig(text, kName, &cfg);
  if (!s.ok()) {
    Require(s.kind() == relay::Status::Kind::kConfig, "errors have the kConfig kind");
    const std::string& m = s.message();
    Require(m.compare(0, kName.size(), kName) == 0 && m.size() > kName.size(), "errors start with the name");
    std::string_view rest = std::string_view(m).substr(kName.size());
    if (rest.substr(0, 2) != ": ") {
      Require(rest[0] == ':', "name then ':'");
      size_t end = rest.find(": ", 1);
      Require(end != std::string_view::npos && end > 1, "NAME:LINE: ");
      unsigned long line = 0;
      for (char c : rest.substr(1, end - 1)) {
        Require(c >= '0' && c <= '9', "the line is a number");
        line = line * 10 + static_cast<unsigned>(c - '0');
      }
      size_t lines = relay::Split(text, '\n').size();
      Require(line >= 1 && line <= lines, "the line is in the file");
    }
    return 0;
  }

  // What was accepted is valid.
  Require(!cfg.spool_dir.empty() && cfg.spool_dir[0] == '/', "spool_dir is absolute");
  Require(!cfg.aliases.empty() && cfg.aliases[0] == '/', "aliases is absolute");
  Require(NoControl(cfg.spool_dir) && NoControl(cfg.aliases) && NoControl(cfg.domain), "no control characters");
  Require(cfg.domain.find_first_of(" \t") == std::string::npos, "domain has no blanks");
  for (const relay::Smarthost& h : cfg.smarthosts) {
    Require(!h.host.empty(), "smarthost host is not empty");
    Require(h.host.find_first_of(" \t,[]") == std::string::npos, "smarthost host is one word");
    Require(NoControl(h.host), "smarthost host has no control characters");
    Require(h.tls_set || h.tls == cfg.tls, "hosts without a mode use the default");
    Require(h.effective_port() != 0, "a port to connect to");
  }
  Require(cfg.retry_min <= cfg.retry_max, "retry_min <= retry_max");
  Require(cfg.retry_min >= 1 && cfg.queue_lifetime >= 0, "durations are not negative");
  Require(cfg.bounce_size_limit >= 0, "bounce_size_limit is not negative");
  Require(cfg.tls_cert_file.empty() == cfg.tls_key_file.empty(), "certificate and key go together");
  for (const std::string& f : cfg.tls_fingerprints) Require(f.size() == 7 + 64, "fingerprint length");
  // The listener: a mode per address, never none; TLS at connect only
  // with listen_allow (it is relay-smtpd's).
  Require(cfg.listen_tls != relay::TlsMode::kNone, "listen_tls is starttls or smtps");
  for (const relay::ListenAddress& la : cfg.listen) {
    Require(la.tls != relay::TlsMode::kNone, "a listen address is starttls or smtps");
    Require(la.tls_set || la.tls == cfg.listen_tls, "addresses without a mode use listen_tls");
    Require(la.address.find_first_of(" \t,") == std::string::npos, "a listen address is one word");
    Require(la.tls != relay::TlsMode::kSmtps || !cfg.listen_allow.empty(), "smtps only with listen_allow");
  }
  Require(cfg.listen_auth_failure_limit >= 0 && cfg.listen_auth_failure_limit <= 1000, "failure limit range");
  Require(cfg.listen_auth_failure_window >= 1, "failure window is positive");

  // Written out and read back, it is the same.
  std::string again_text = Write(cfg);
  relay::Config again;
  relay::Status s2 = relay::ParseConfig(again_text, kName, &again);
  if (!s2.ok()) std::fprintf(stderr, "rewritten config:\n%s\nerror: %s\n", again_text.c_str(), s2.message().c_str());
  Require(s2.ok(), "a written-out config parses");
  RequireSame(cfg, again);
  return 0;
}
