// relayctl import of OAuth 2.0 logins (issue 17): msmtp's auth xoauth2 /
// oauthbearer with passwordeval, and Postfix with sasl-xoauth2, become a
// provider preset when the smarthost is one relay knows.
#include <gtest/gtest.h>

#include "relay/admin/import.h"
#include "relay/base/config.h"

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
