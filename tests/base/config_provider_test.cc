// Issue 17's keys: the sender the provider accepts and provider limits.
#include <gtest/gtest.h>

#include <string>

#include "relay/base/config.h"

namespace relay {
namespace {

TEST(Config, SenderRewriteAndLimitKeys) {
  Config cfg;
  EXPECT_EQ(cfg.sender_rewrite, SenderRewrite::kNone);
  EXPECT_EQ(cfg.smarthost_rate_limit, 0);
  EXPECT_EQ(cfg.smarthost_daily_limit, 0);
  ASSERT_TRUE(ParseConfig("sender_rewrite = envelope+header\n"
                          "sender_address = me@example.com\n"
                          "sender_map = /etc/relay/sender_map\n"
                          "allowed_senders = A@Example.com, @example.org\n"
                          "allowed_senders = b@example.net\n"
                          "smarthost_rate_limit = 30\n"
                          "smarthost_daily_limit = 2000\n"
                          "smarthost_quota_replies = /etc/relay/quota_replies\n",
                          "relay.conf", &cfg)
                  .ok());
  EXPECT_EQ(cfg.sender_rewrite, SenderRewrite::kEnvelopeAndHeader);
  EXPECT_EQ(cfg.sender_address, "me@example.com");
  EXPECT_EQ(cfg.sender_map, "/etc/relay/sender_map");
  EXPECT_EQ(cfg.allowed_senders, (std::vector<std::string>{"a@example.com", "@example.org", "b@example.net"}));
  EXPECT_EQ(cfg.smarthost_rate_limit, 30);
  EXPECT_EQ(cfg.smarthost_daily_limit, 2000);
  EXPECT_EQ(cfg.smarthost_quota_replies, "/etc/relay/quota_replies");
  ASSERT_TRUE(ParseConfig("sender_rewrite = envelope\n", "relay.conf", &cfg).ok());
  EXPECT_EQ(cfg.sender_rewrite, SenderRewrite::kEnvelope);
}

TEST(Config, SenderRewriteAndLimitErrorsNameTheProblem) {
  struct Case {
    const char* text;
    const char* error;
  } errors[] = {
      {"sender_rewrite = header\n", "must be none, envelope or envelope+header"},
      {"sender_rewrite = yes\n", "must be none, envelope or envelope+header"},
      {"sender_address = root\n", "'root' is not an address"},
      {"sender_address = @example.com\n", "is not an address"},
      {"sender_address = me@\n", "is not an address"},
      {"sender_address = Me <me@example.com>\n", "is not an address"},
      {"sender_map = relative/map\n", "absolute"},
      {"allowed_senders = someone\n", "'someone' is neither an address nor @domain"},
      {"allowed_senders = a@x.example, b@\n", "'b@' is neither"},
      {"smarthost_rate_limit = -1\n", "must be a number from 0"},
      {"smarthost_rate_limit = 100001\n", "must be a number from 0 to 100000"},
      {"smarthost_daily_limit = many\n", "must be a number from 0"},
      {"smarthost_quota_replies = quota\n", "absolute"},
  };
  for (const Case& c : errors) {
    Config cfg;
    Status s = ParseConfig(c.text, "relay.conf", &cfg);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.error), std::string::npos) << c.text << " -> " << s.message();
  }
}

}  // namespace
}  // namespace relay
