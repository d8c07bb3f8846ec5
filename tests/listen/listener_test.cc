#include "relay/listen/listener.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

sockaddr_storage Bound(const char* spec) {
  sockaddr_storage ss{};
  socklen_t len;
  EXPECT_TRUE(ParseSocketAddress(spec, &ss, &len)) << spec;
  return ss;
}

// A socket from systemd takes the mode of the `listen` address it is,
// else listen_tls.
TEST(Listener, TlsModeOfABoundSocket) {
  Config cfg;
  ASSERT_TRUE(ParseConfig("listen_allow = 192.0.2.0/24\nlisten_tls_cert_file = /c.pem\n"
                          "listen_tls_key_file = /k.pem\nlisten_auth_users = /u\n"
                          "listen = 192.0.2.1:587, 192.0.2.1:465 smtps, [2001:db8::1]:465 smtps\n",
                          "relay.conf", &cfg)
                  .ok());
  struct Case {
    const char* bound;
    TlsMode mode;
  };
  const Case cases[] = {
      {"192.0.2.1:587", TlsMode::kStartTls},
      {"192.0.2.1:465", TlsMode::kSmtps},
      {"[2001:db8::1]:465", TlsMode::kSmtps},
      {"[2001:db8::1]:587", TlsMode::kStartTls},  // not listed: listen_tls
      {"192.0.2.9:465", TlsMode::kStartTls},
  };
  for (const Case& c : cases) EXPECT_EQ(ListenerTlsMode(cfg, Bound(c.bound)), c.mode) << c.bound;
  cfg.listen_tls = TlsMode::kSmtps;
  EXPECT_EQ(ListenerTlsMode(cfg, Bound("192.0.2.9:465")), TlsMode::kSmtps);
  EXPECT_EQ(ListenerTlsMode(cfg, Bound("192.0.2.1:587")), TlsMode::kStartTls);
}

}  // namespace
}  // namespace relay
