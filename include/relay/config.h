// /etc/relay.conf: "key = value" lines, '#' comment lines, blank lines.
// See man/relay.conf.5 for every key. Parsing is pure; LoadConfig adds the
// one read of the file. Errors read "FILE:LINE: what is wrong" and have the
// kConfig kind (EX_CONFIG) so every program reports them the same way.
#ifndef RELAY_CONFIG_H_
#define RELAY_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/env.h"
#include "relay/status.h"

namespace relay {

enum class TlsMode { kStartTls, kSmtps, kNone };

struct Smarthost {
  std::string host;  // name, IPv4 address, or IPv6 address without brackets
  uint16_t port = 0;  // 0: the default for the TLS mode
  TlsMode tls = TlsMode::kStartTls;
  bool tls_set = false;  // the mode was given for this host, not inherited

  uint16_t effective_port() const;
};

struct Config {
  std::string path;  // where it was read from ("" when defaults only)
  std::string spool_dir = "/var/spool/relay";
  std::string domain;  // "" means: /etc/mailname, else the host's FQDN
  std::string aliases = "/etc/aliases";
  std::vector<Smarthost> smarthosts;  // in the order they are tried
  TlsMode tls = TlsMode::kStartTls;   // default for hosts that name none
  uint64_t message_size_limit = 0;    // bytes of content; 0: no limit
};

// Parses relay.conf text. `name` is used in error messages.
Status ParseConfig(std::string_view text, std::string_view name, Config* cfg);

// Reads and parses path. A missing file means the defaults.
Status LoadConfig(Env* env, const std::string& path, Config* cfg);

// Parses a smarthost list: "host[:port] [starttls|smtps|none]" items
// separated by commas; IPv6 literals in brackets ("[::1]:25").
Status ParseSmarthosts(std::string_view value, std::vector<Smarthost>* out);

bool ParseTlsMode(std::string_view s, TlsMode* mode);
const char* TlsModeName(TlsMode mode);

}  // namespace relay

#endif  // RELAY_CONFIG_H_
