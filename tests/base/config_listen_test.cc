// The listener's keys: listen addresses beyond loopback and their TLS
// modes, and the limit on wrong passwords across sessions.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "relay/base/config.h"

namespace relay {
namespace {

// A configuration text and what parsing it must say.
struct ParseCase {
  std::string text;
  const char* error;  // nullptr: accepted; else a part of the message
};

template <size_t N>
void ExpectParses(const ParseCase (&cases)[N]) {
  for (const ParseCase& c : cases) {
    Config cfg;
    Status s = ParseConfig(c.text, "relay.conf", &cfg);
    if (!c.error) {
      EXPECT_TRUE(s.ok()) << c.text << s.message();
    } else {
      EXPECT_FALSE(s.ok()) << c.text;
      EXPECT_NE(s.message().find(c.error), std::string::npos) << c.text << " -> " << s.message();
    }
  }
}

// Beyond loopback only with the networks named, TLS, and a way for every
// client to authenticate: never an open relay by a missing line.
TEST(Config, ListenBeyondLoopbackNeedsAllowTlsAndAuth) {
  const std::string tls = "listen_tls_cert_file = /c.pem\nlisten_tls_key_file = /k.pem\n";
  const ParseCase cases[] = {
      {"listen = 127.0.0.1:25, [::1]:25\n", nullptr},
      {"listen = 0.0.0.0:25\n", "not a loopback address"},
      {"listen = 192.0.2.1:25\n", "not a loopback address"},
      {"listen = 192.0.2.1:25\nlisten_allow = 192.0.2.0/24\n", "needs listen_tls_cert_file"},
      {"listen = 192.0.2.1:25\nlisten_allow = 192.0.2.0/24\n" + tls, "must authenticate"},
      {"listen = 192.0.2.1:25\nlisten_allow = 192.0.2.0/24\n" + tls + "listen_auth_users = /u\n", nullptr},
      {"listen = [::]:25\nlisten_allow = 2001:db8::/32\n" + tls + "listen_client_ca = /ca.pem\n", nullptr},
      {"listen = 0.0.0.0:25\nlisten_allow = 0.0.0.0/0\n" + tls + "listen_client_fingerprint = sha256:" +
           std::string(64, 'a') + "\n",
       nullptr},
      {"listen_allow = 192.0.2.7/24\n", "is not a network"},
      {"listen_allow = example.com\n", "is not a network"},
      {"listen = example.com:25\n", "not a numeric address"},
      {"listen_auth_users = users\n", "absolute path"},
      {"listen_client_fingerprint = sha1:abcd\n", "64 hex digits"},
      {"listen_allow = ::ffff:192.0.2.0/120\n", "IPv4-mapped"},
      {"listen_auth_header = maybe\n", "yes or no"},
  };
  ExpectParses(cases);
  Config cfg;
  ASSERT_TRUE(ParseConfig("listen_allow = 192.0.2.0/24, 2001:db8::/32\nlisten_client_fingerprint = SHA256:" +
                              std::string(64, 'B') + "\n" + tls + "listen_auth_users = /u\n",
                          "relay.conf", &cfg)
                  .ok());
  EXPECT_EQ(cfg.listen_allow.size(), 2u);
  EXPECT_EQ(cfg.listen_client_fingerprints, std::vector<std::string>{"sha256:" + std::string(64, 'b')});
}

// smtps (TLS at connect) per listen address, listen_tls the default for
// the others; only with listen_allow, as it is relay-smtpd's.
TEST(Config, ListenTlsModes) {
  const std::string remote = "listen_allow = 192.0.2.0/24\nlisten_tls_cert_file = /c.pem\n"
                             "listen_tls_key_file = /k.pem\nlisten_auth_users = /u\n";
  const ParseCase cases[] = {
      {remote + "listen = 192.0.2.1:587, 192.0.2.1:465 smtps\n", nullptr},
      {remote + "listen = 192.0.2.1:465\tsmtps\n", nullptr},
      {remote + "listen_tls = smtps\nlisten = 192.0.2.1:465\n", nullptr},
      {remote + "listen = 192.0.2.1:465 none\n", "use starttls or smtps"},
      {remote + "listen = 192.0.2.1:465 tls\n", "use starttls or smtps"},
      {remote + "listen_tls = none\n", "use starttls or smtps"},
      {"listen = 127.0.0.1:465 smtps\n", "smtps needs listen_allow"},
      {"listen_tls = smtps\n", "listen_tls = smtps needs listen_allow"},
      {"listen = 127.0.0.1:25 starttls\n", nullptr},
      {"listen = example.com:465 smtps\n", "not a numeric address"},
  };
  ExpectParses(cases);
  // listen_tls after the addresses still sets the ones that named none.
  Config cfg;
  ASSERT_TRUE(ParseConfig(remote + "listen = 192.0.2.1:587 starttls, 192.0.2.1:465\nlisten_tls = smtps\n",
                          "relay.conf", &cfg)
                  .ok());
  ASSERT_EQ(cfg.listen.size(), 2u);
  EXPECT_EQ(cfg.listen[0].address, "192.0.2.1:587");
  EXPECT_EQ(cfg.listen[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(cfg.listen[1].address, "192.0.2.1:465");
  EXPECT_EQ(cfg.listen[1].tls, TlsMode::kSmtps);
}

TEST(Config, ListenAuthFailureLimit) {
  Config cfg;
  EXPECT_EQ(cfg.listen_auth_failure_limit, 10);
  EXPECT_EQ(cfg.listen_auth_failure_window, 3600);
  ASSERT_TRUE(ParseConfig("listen_auth_failure_limit = 0\nlisten_auth_failure_window = 1d\n", "relay.conf", &cfg).ok());
  EXPECT_EQ(cfg.listen_auth_failure_limit, 0);
  EXPECT_EQ(cfg.listen_auth_failure_window, 86400);
  for (const char* bad : {"listen_auth_failure_limit = -1\n", "listen_auth_failure_limit = 1001\n",
                          "listen_auth_failure_window = 0s\n", "listen_auth_failure_window = 31d\n",
                          "listen_auth_failure_window = soon\n"}) {
    Config c;
    EXPECT_FALSE(ParseConfig(bad, "relay.conf", &c).ok()) << bad;
  }
}

}  // namespace
}  // namespace relay
