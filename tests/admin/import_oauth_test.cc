// relayctl import of OAuth 2.0 logins (issue 17): msmtp's auth xoauth2 /
// oauthbearer with passwordeval, and Postfix with sasl-xoauth2, become a
// provider preset when the smarthost is one relay knows.
#include "relay/admin/import.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/env.h"
#include "testutil/import_util.h"

namespace relay {
namespace {

Status Import(ImportKind kind, std::map<std::string, std::string> files, ImportResult* r) {
  ImportSource src;
  src.kind = kind;
  src.files = std::move(files);
  return ImportConfig(src, ImportOptions(), r);
}

std::string Warnings(const ImportResult& r) {
  std::string all;
  for (const std::string& w : r.warnings) all += w + "\n";
  return all;
}

TEST(ImportOAuth, MsmtpHelperBecomesAPreset) {
  struct Case {
    const char* host;
    const char* auth;
    const char* provider;
  } cases[] = {
      {"smtp.gmail.com", "xoauth2", "gmail"},
      {"smtp.gmail.com", "oauthbearer", "gmail"},
      {"smtp-relay.gmail.com", "xoauth2", "google-workspace-relay"},
      {"smtp.office365.com", "xoauth2", "microsoft365"},
      {"smtp-mail.outlook.com", "xoauth2", "outlook"},
  };
  for (const Case& c : cases) {
    ImportResult r;
    std::string rc = std::string("account default\nhost ") + c.host + "\nport 587\ntls on\ntls_starttls on\nauth " +
                     c.auth + "\nuser me@example.org\npasswordeval oama access me@example.org\n";
    Status s = Import(ImportKind::kMsmtp, {{"msmtprc", rc}}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    Config cfg;
    ASSERT_TRUE(ParseConfig(r.relay_conf, "imported", &cfg).ok()) << r.relay_conf;
    EXPECT_EQ(cfg.provider, c.provider) << r.relay_conf;
    EXPECT_TRUE(cfg.auth_password_command.empty()) << r.relay_conf;
    EXPECT_TRUE(cfg.auth_password_file.empty()) << r.relay_conf;
    EXPECT_EQ(cfg.auth_user, "me@example.org");
    EXPECT_EQ(r.relay_conf.find("oama"), std::string::npos) << "the helper is not carried over";
    EXPECT_NE(Warnings(r).find("relayctl oauth login"), std::string::npos) << Warnings(r);
  }
}

TEST(ImportOAuth, OtherHostsAndPasswordsStayAsTheyWere) {
  ImportResult r;
  ASSERT_TRUE(Import(ImportKind::kMsmtp, {{"msmtprc", "account default\nhost mail.example.org\nport 587\ntls on\n"
                                                      "auth xoauth2\nuser me@example.org\npasswordeval get-token\n"}},
                     &r).ok());
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "imported", &cfg).ok());
  EXPECT_EQ(cfg.provider, "");
  EXPECT_EQ(cfg.auth_password_command, "get-token") << "no preset for the host: the helper stays";
  ImportResult plain;
  ASSERT_TRUE(Import(ImportKind::kMsmtp, {{"msmtprc", "account default\nhost smtp.gmail.com\nport 587\ntls on\n"
                                                      "auth plain\nuser me@gmail.com\npassword app-password\n"}},
                     &plain).ok());
  Config c2;
  ASSERT_TRUE(ParseConfig(plain.relay_conf, "imported", &c2).ok());
  EXPECT_EQ(c2.provider, "") << "an app password is not OAuth";
  EXPECT_EQ(plain.secret, "app-password");
}

TEST(ImportOAuth, PostfixWithSaslXoauth2) {
  ImportResult r;
  Status s = Import(ImportKind::kPostfix,
                    {{"main.cf", "relayhost = [smtp.gmail.com]:587\nsmtp_tls_security_level = encrypt\n"
                                 "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
                                 "smtp_sasl_mechanism_filter = xoauth2\n"},
                     {"sasl_passwd", "[smtp.gmail.com]:587 me@gmail.com:/etc/tokens/me@gmail.com\n"}},
                    &r);
  ASSERT_TRUE(s.ok()) << s.message();
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "imported", &cfg).ok()) << r.relay_conf;
  EXPECT_EQ(cfg.provider, "gmail") << r.relay_conf;
  EXPECT_EQ(cfg.auth_user, "me@gmail.com");
  EXPECT_TRUE(r.secret.empty()) << "sasl-xoauth2's token file path is no password";
  EXPECT_TRUE(cfg.auth_password_file.empty());
  EXPECT_NE(Warnings(r).find("relayctl oauth import"), std::string::npos) << Warnings(r);
}

}  // namespace
}  // namespace relay

// The same imports read from the fixture files in tests/data/import, as
// relayctl import reads them.
namespace relay {
namespace {

const std::string kData = std::string(RELAY_TESTDATA) + "/import";

TEST(ImportOAuth, MsmtpWithOamaBecomesTheGmailPreset) {
  ImportResult r;
  ASSERT_TRUE(ImportFile(kData + "/msmtp-oauth", &r).ok());
  SCOPED_TRACE("relay.conf:\n" + r.relay_conf + "warnings:\n" + Joined(r.warnings));
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "imported", &cfg).ok());
  EXPECT_EQ(cfg.provider, "gmail");
  EXPECT_EQ(cfg.auth_user, "shop.alerts@gmail.com");
  EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{"OAUTHBEARER"});
  EXPECT_EQ(cfg.auth_password_command, "");  // the helper is not run any more
  EXPECT_EQ(cfg.auth_password_file, "");
  EXPECT_EQ(r.secret, "");
  ASSERT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_EQ(cfg.smarthosts[0].host, "smtp.gmail.com");
  EXPECT_EQ(cfg.oauth_token_endpoint, "https://oauth2.googleapis.com/token");
  // One line says what to do next, naming the helper's own file.
  int next = 0;
  for (const std::string& w : r.warnings)
    if (w.find("relayctl oauth") != std::string::npos) {
      ++next;
      EXPECT_NE(w.find("msmtprc:14: passwordeval"), std::string::npos) << w;
      EXPECT_NE(w.find("relayctl oauth import --format oama"), std::string::npos) << w;
      EXPECT_NE(w.find("relayctl oauth login --provider gmail"), std::string::npos) << w;
    }
  EXPECT_EQ(next, 1);
}

TEST(ImportOAuth, EachMechanismAndEachPresetHost) {
  struct Case {
    const char* auth;
    const char* host;
    const char* provider;
    const char* mechanism;
  };
  for (Case c : {Case{"xoauth2", "smtp.gmail.com", "gmail", "XOAUTH2"},
                 Case{"XOAUTH2", "smtp-relay.gmail.com", "google-workspace-relay", "XOAUTH2"},
                 Case{"oauthbearer", "smtp.office365.com", "microsoft365", "OAUTHBEARER"},
                 Case{"xoauth2", "SMTP-MAIL.OUTLOOK.COM", "outlook", "XOAUTH2"}}) {
    SCOPED_TRACE(c.host);
    ImportResult r;
    Config cfg;
    std::string rc = std::string("account default\nhost ") + c.host + "\nport 587\ntls on\nauth " + c.auth +
                     "\nuser me@example.com\npasswordeval mutt_oauth2.py ~/.mutt/token\n";
    ASSERT_TRUE(ImportText(ImportKind::kMsmtp, {{"msmtprc", rc}}, &r, &cfg).ok());
    EXPECT_EQ(cfg.provider, c.provider);
    EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{c.mechanism});
    EXPECT_EQ(cfg.auth_password_command, "");
    EXPECT_TRUE(HasWarning(r, "relayctl oauth import --format mutt_oauth2")) << Joined(r.warnings);
  }
}

TEST(ImportOAuth, OtherHostsKeepTheTokenCommand) {
  // No preset, so relay cannot refresh: the helper stays as it was.
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kMsmtp,
                         {{"msmtprc", "account default\nhost mail.example.org\nport 587\ntls on\nauth xoauth2\n"
                                      "user me@example.org\npasswordeval get-token me\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.provider, "");
  EXPECT_EQ(cfg.auth_password_command, "get-token me");
  EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{"XOAUTH2"});
  // And a password login to Gmail stays a password login.
  ASSERT_TRUE(ImportText(ImportKind::kMsmtp,
                         {{"msmtprc", "account default\nhost smtp.gmail.com\nport 587\ntls on\nauth plain\n"
                                      "user me@gmail.com\npassword app-pass-word\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.provider, "");
  EXPECT_EQ(r.secret, "app-pass-word");
}

TEST(ImportOAuth, PostfixWithSaslXoauth2OffersTheTokenFile) {
  ImportResult r;
  ASSERT_TRUE(ImportFile(kData + "/postfix-xoauth2", &r).ok());
  SCOPED_TRACE("relay.conf:\n" + r.relay_conf + "warnings:\n" + Joined(r.warnings));
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "imported", &cfg).ok());
  EXPECT_EQ(cfg.provider, "microsoft365");
  EXPECT_EQ(cfg.auth_user, "builds@contoso.com");
  EXPECT_EQ(cfg.auth_mechanisms, std::vector<std::string>{"XOAUTH2"});
  EXPECT_EQ(cfg.auth_password_file, "");
  EXPECT_EQ(r.secret, "");  // the token file's path is no password
  EXPECT_EQ(r.relay_conf.find("/etc/tokens/"), std::string::npos);
  EXPECT_TRUE(HasWarning(r, "sasl_passwd:2: /etc/tokens/builds@contoso.com (sasl-xoauth2's token file)"));
  EXPECT_TRUE(HasWarning(r, "relayctl oauth import --format sasl-xoauth2 --sasl-xoauth2-conf "
                            "/etc/sasl-xoauth2.conf /var/spool/postfix/etc/tokens/builds@contoso.com"));
}

TEST(ImportOAuth, PostfixFilterWithOtherMechanismsKeepsTheBearerOnes) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kPostfix,
                         {{"main.cf", "relayhost = [smtp.gmail.com]:587\nsmtp_tls_security_level = secure\n"
                                      "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
                                      "smtp_sasl_mechanism_filter = plain, xoauth2, login, oauthbearer\n"},
                          {"sasl_passwd", "[smtp.gmail.com]:587 me@gmail.com:/etc/tokens/me@gmail.com\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.provider, "gmail");
  EXPECT_EQ(cfg.auth_mechanisms, (std::vector<std::string>{"XOAUTH2", "OAUTHBEARER"}));
  EXPECT_EQ(r.secret, "");
}

TEST(ImportOAuth, PostfixXoauth2ToAnotherHostCarriesNoTokenPathAsPassword) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kPostfix,
                         {{"main.cf", "relayhost = [mail.example.org]:587\nsmtp_tls_security_level = secure\n"
                                      "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
                                      "smtp_sasl_mechanism_filter = xoauth2\n"},
                          {"sasl_passwd", "[mail.example.org]:587 me@example.org:/etc/tokens/me\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.provider, "");
  EXPECT_EQ(r.secret, "");
  EXPECT_TRUE(HasWarning(r, "no provider preset for mail.example.org")) << Joined(r.warnings);
}

}  // namespace
}  // namespace relay
