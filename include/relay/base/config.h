// /etc/relay.conf: "key = value" lines, '#' comment lines, blank lines.
// See man/relay.conf.5 for every key. Parsing is pure; LoadConfig adds the
// one read of the file. Errors read "FILE:LINE: what is wrong" and have the
// kConfig kind (EX_CONFIG) so every program reports them the same way.
#ifndef RELAY_BASE_CONFIG_H_
#define RELAY_BASE_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/env.h"
#include "relay/base/network.h"
#include "relay/base/status.h"

namespace relay {

enum class TlsMode { kStartTls, kSmtps, kNone };

struct Smarthost {
  std::string host;  // name, IPv4 address, or IPv6 address without brackets
  uint16_t port = 0;  // 0: the default for the TLS mode
  TlsMode tls = TlsMode::kStartTls;
  bool tls_set = false;  // the mode was given for this host, not inherited

  uint16_t effective_port() const;
};

// One `listen` address, and how its clients start TLS: kStartTls (the
// STARTTLS command, on port 25 or 587) or kSmtps (TLS from the first byte,
// RFC 8314, port 465 style; Postfix's smtpd_tls_wrappermode).
struct ListenAddress {
  std::string address;  // "127.0.0.1:25", "[::1]:25"
  TlsMode tls = TlsMode::kStartTls;
  bool tls_set = false;  // given for this address, not inherited from listen_tls
};

struct Config {
  std::string path;  // where it was read from ("" when defaults only)
  std::string spool_dir = "/var/spool/relay";
  std::string domain;  // "" means: /etc/mailname, else the host's FQDN
  std::string aliases = "/etc/aliases";
  std::vector<Smarthost> smarthosts;  // in the order they are tried
  TlsMode tls = TlsMode::kStartTls;   // default for hosts that name none
  uint64_t message_size_limit = 0;    // bytes of content; 0: no limit
  // sendmail refuses (EX_TEMPFAIL) rather than leave the spool's file
  // system with less free space than this; 0 disables the check.
  uint64_t spool_min_free = 32ull * 1024 * 1024;

  // relayd: TLS.
  std::string tls_ca_file;   // "" : the system store
  std::string tls_ca_dir;
  std::string tls_cert_file;  // client certificate
  std::string tls_key_file;
  std::vector<std::string> tls_fingerprints;  // "sha256:" + lower-case hex
  std::string tls_min_version = "1.2";        // "1.2" or "1.3"
  std::string helo_name;  // "" : the host's FQDN

  // relayd: the SMTP listener (off when empty). Loopback addresses, unless
  // listen_allow names client networks: those clients are served by
  // relay-smtpd, which requires TLS and then AUTH or a client certificate.
  std::vector<ListenAddress> listen;
  TlsMode listen_tls = TlsMode::kStartTls;  // for addresses that name none
  std::vector<Network> listen_allow;
  std::string listen_tls_cert_file;  // the listener's own certificate
  std::string listen_tls_key_file;
  std::string listen_auth_users;     // "user:crypt-hash" lines
  std::string listen_client_ca;      // client certificates it signed pass
  std::vector<std::string> listen_client_fingerprints;  // "sha256:" + hex
  bool listen_auth_header = false;   // "(Authenticated sender: X)" in Received
  int listen_max_connections = 20;
  int listen_max_per_client = 10;
  // relayd refuses an address served by relay-smtpd at connect once it
  // has this many wrong passwords within the window; 0: never.
  int listen_auth_failure_limit = 10;
  int64_t listen_auth_failure_window = 3600;  // seconds
  int64_t timeout_smtpd = 300;  // seconds a client may stay silent

  // relayd: authentication. The secret lives apart from this file.
  std::string auth_user;
  std::string auth_password_file;     // holds only the secret; mode 0600/0400
  std::string auth_password_command;  // first line of its output is the secret
  std::vector<std::string> auth_mechanisms;  // allow-list in preference order
  bool auth_without_tls = false;      // honoured for loopback smarthosts only

  // OAuth 2.0 (issue 17): relay-deliver keeps the access token alive from
  // a token store (token_store.h). On when provider or oauth_token_file is
  // set. A provider preset fills the smarthost, mechanism, endpoint and
  // scope that were not given (ApplyProviderPreset).
  std::string provider;              // gmail, google-workspace-relay, microsoft365, outlook
  std::string oauth_token_file;      // "" : SPOOL/state/oauth-tokens.json
  std::string oauth_token_endpoint;  // https URL
  std::string oauth_scope;
  std::string oauth_tenant;          // Microsoft: directory id, "organizations", "consumers"
  std::string oauth_ca_file;         // "" : the system store, for the token endpoint
  int64_t oauth_refresh_ahead = 600;  // refresh when the token expires sooner (seconds)
  int64_t timeout_oauth = 30;         // one exchange with the token endpoint
  bool oauth() const { return !provider.empty() || !oauth_token_file.empty(); }

  // relayd: delivery.
  int max_connections = 4;
  int max_messages_per_connection = 100;
  int64_t retry_min = 300;        // seconds
  int64_t retry_max = 3600;
  int64_t queue_lifetime = 5 * 86400;
  int64_t bounce_size_limit = 50000;  // bytes of the original in a bounce
  std::string log = "syslog";          // syslog, stderr, or a file path

  // relayd: timeouts in seconds (RFC 5321 4.5.3.2 and Postfix's defaults).
  int64_t timeout_connect = 30;
  int64_t timeout_greeting = 300;
  int64_t timeout_command = 300;    // EHLO, STARTTLS, MAIL, RCPT, RSET, QUIT
  int64_t timeout_data_init = 120;  // the reply to DATA
  int64_t timeout_data_block = 180; // each block of the content written
  int64_t timeout_data_done = 600;  // the reply to the final dot
};

// "30", "30s", "5m", "1h", "5d" -> seconds.
bool ParseDuration(std::string_view s, int64_t* seconds);

// Parses relay.conf text. `name` is used in error messages.
Status ParseConfig(std::string_view text, std::string_view name, Config* cfg);

// Reads and parses path. A missing file means the defaults, unless the
// file was named on the command line (-C, `named`): a -C naming no file
// is a mistake, and the defaults would put mail in a spool the caller
// never meant. That is a Config-kind status (exit 78): "-C PATH: no such
// configuration file".
Status LoadConfig(Env* env, const std::string& path, Config* cfg, bool named = false);

// Parses a smarthost list: "host[:port] [starttls|smtps|none]" items
// separated by commas; IPv6 literals in brackets ("[::1]:25").
Status ParseSmarthosts(std::string_view value, std::vector<Smarthost>* out);

bool ParseTlsMode(std::string_view s, TlsMode* mode);

// The settings a provider preset stands for (relay.conf(5), PROVIDERS).
struct ProviderPreset {
  const char* name;
  const char* host;
  uint16_t port;
  TlsMode tls;
  const char* mechanism;
  const char* token_endpoint;  // "{tenant}" is replaced by oauth_tenant
  const char* scope;
  const char* tenant;  // the default tenant ("" where there is none)
};
// Null for an unknown name.
const ProviderPreset* FindProviderPreset(std::string_view name);
// Fills from cfg->provider's preset what relay.conf left empty: the
// smarthost, auth_mechanisms, oauth_token_endpoint, oauth_scope and
// oauth_tenant. Pure; ParseConfig calls it at the end of the file.
void ApplyProviderPreset(Config* cfg);
const char* TlsModeName(TlsMode mode);

}  // namespace relay

#endif  // RELAY_BASE_CONFIG_H_
