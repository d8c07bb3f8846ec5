// relay.conf's OAuth 2.0 keys and provider presets (issue 17).
#include <gtest/gtest.h>

#include "relay/base/config.h"

namespace relay {
namespace {

Status Parse(const std::string& text, Config* c) { return ParseConfig(text, "t.conf", c); }

TEST(ConfigOAuth, PresetsFillWhatWasNotGiven) {
  struct Case {
    const char* provider;
    const char* host;
    const char* endpoint;
    const char* scope;
  } cases[] = {
      {"gmail", "smtp.gmail.com", "https://oauth2.googleapis.com/token", "https://mail.google.com/"},
      {"google-workspace-relay", "smtp-relay.gmail.com", "https://oauth2.googleapis.com/token",
       "https://mail.google.com/"},
      {"microsoft365", "smtp.office365.com", "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
       "https://outlook.office.com/SMTP.Send offline_access"},
      {"outlook", "smtp-mail.outlook.com", "https://login.microsoftonline.com/consumers/oauth2/v2.0/token",
       "https://outlook.office.com/SMTP.Send offline_access"},
  };
  for (const Case& c : cases) {
    Config cfg;
    Status s = Parse(std::string("provider = ") + c.provider + "\nauth_user = me@example.org\n", &cfg);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(cfg.smarthosts.size(), 1u);
    EXPECT_EQ(cfg.smarthosts[0].host, c.host);
    EXPECT_EQ(cfg.smarthosts[0].effective_port(), 587);
    EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kStartTls);
    EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{"XOAUTH2"});
    EXPECT_EQ(cfg.oauth_token_endpoint, c.endpoint);
    EXPECT_EQ(cfg.oauth_scope, c.scope);
    EXPECT_TRUE(cfg.oauth());
  }
}

TEST(ConfigOAuth, EverythingStaysOverridable) {
  Config cfg;
  Status s = Parse("smarthost = [::1]:2525 smtps\nprovider = microsoft365\noauth_tenant = contoso.onmicrosoft.com\n"
                   "auth_mechanisms = OAUTHBEARER\noauth_scope = https://x.test/s\nauth_user = a@b.test\n",
                   &cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_EQ(cfg.smarthosts[0].host, "::1");
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kSmtps);
  EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{"OAUTHBEARER"});
  EXPECT_EQ(cfg.oauth_token_endpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(cfg.oauth_scope, "https://x.test/s");
  Config c2;
  ASSERT_TRUE(Parse("provider = gmail\noauth_token_endpoint = https://127.0.0.1:9/token\nauth_user = a@b\n", &c2).ok());
  EXPECT_EQ(c2.oauth_token_endpoint, "https://127.0.0.1:9/token");
}

TEST(ConfigOAuth, Refusals) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"provider = yahoo\n", "unknown provider 'yahoo'"},
      {"provider = gmail\n", "needs auth_user"},
      {"provider = gmail\nauth_user = a@b\nauth_password_file = /etc/p\n", "remove auth_password_file"},
      {"provider = gmail\nauth_user = a@b\nauth_password_command = echo x\n", "remove auth_password_file"},
      {"provider = gmail\nauth_user = a@b\nauth_mechanisms = PLAIN\n", "only XOAUTH2 and OAUTHBEARER, not PLAIN"},
      {"oauth_token_file = /t.json\nauth_user = a@b\n", "needs auth_mechanisms"},
      {"oauth_token_file = t.json\n", "absolute path"},
      {"oauth_token_endpoint = http://x/token\n", "https:// URL"},
      {"oauth_token_endpoint = https://\n", "https:// URL"},
      {"oauth_tenant = a/b\n", "tenant id"},
      {"oauth_refresh_ahead = -1\n", "bad duration"},
      {"oauth_refresh_ahead = 2d\n", "too long"},
      {"timeout_oauth = 0\n", "bad duration"},
  };
  for (const Case& c : cases) {
    Config cfg;
    Status s = Parse(c.text, &cfg);
    EXPECT_EQ(s.kind(), Status::Kind::kConfig) << c.text;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << c.text << " -> " << s.message();
  }
}

TEST(ConfigOAuth, TokenFileAloneTurnsOAuthOn) {
  Config cfg;
  ASSERT_TRUE(Parse("smarthost = 127.0.0.1:2525\noauth_token_file = /s/t.json\nauth_user = a@b\n"
                    "auth_mechanisms = XOAUTH2 OAUTHBEARER\noauth_refresh_ahead = 0\n", &cfg).ok());
  EXPECT_TRUE(cfg.oauth());
  EXPECT_EQ(cfg.oauth_refresh_ahead, 0);
  EXPECT_EQ(cfg.timeout_oauth, 30);
  Config plain;
  EXPECT_FALSE(plain.oauth());
  EXPECT_EQ(plain.oauth_refresh_ahead, 600);
}

}  // namespace
}  // namespace relay
