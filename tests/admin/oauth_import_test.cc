#include "relay/admin/oauth_import.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

bool Mentions(const std::vector<std::string>& notes, const std::string& what) {
  for (const std::string& n : notes)
    if (n.find(what) != std::string::npos) return true;
  return false;
}

TEST(OAuthImportTest, FormatNames) {
  TokenFileFormat f;
  ASSERT_TRUE(ParseTokenFileFormat("sasl-xoauth2", &f));
  EXPECT_EQ(f, TokenFileFormat::kSaslXoauth2);
  ASSERT_TRUE(ParseTokenFileFormat("mutt_oauth2", &f));
  EXPECT_EQ(f, TokenFileFormat::kMuttOauth2);
  ASSERT_TRUE(ParseTokenFileFormat("oama", &f));
  EXPECT_EQ(f, TokenFileFormat::kOama);
  EXPECT_FALSE(ParseTokenFileFormat("msmtp", &f));
}

TEST(OAuthImportTest, SaslXoauth2TokenFileWithItsOwnClient) {
  ImportedToken t;
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kSaslXoauth2,
                             R"({"access_token":"ya29.AT","refresh_token":"1//RT","expiry":"1765000000",)"
                             R"("client_id":"42.apps.googleusercontent.com","client_secret":"GOCSPX-s",)"
                             R"("token_endpoint":"https://oauth2.googleapis.com/token"})",
                             "/etc/tokens/me@gmail.com", &t).ok());
  EXPECT_EQ(t.provider, "gmail");
  EXPECT_EQ(t.refresh_token, "1//RT");
  EXPECT_EQ(t.access_token, "ya29.AT");
  EXPECT_EQ(t.access_expiry, 1765000000);
  EXPECT_EQ(t.client_id, "42.apps.googleusercontent.com");
  EXPECT_EQ(t.client_secret, "GOCSPX-s");
}

TEST(OAuthImportTest, SaslXoauth2ConfFillsTheClientButTheTokenFileWins) {
  ImportedToken t;
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kSaslXoauth2,
                             R"({"access_token":"","refresh_token":"M.R3_BAY","expiry":0})", "tok", &t).ok());
  EXPECT_EQ(t.provider, "");
  ASSERT_TRUE(MergeSaslXoauth2Conf(R"({"client_id":"c-1","client_secret":"","log_to_syslog_on_failure":"yes",)"
                                   R"("token_endpoint":"https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"})",
                                   "/etc/sasl-xoauth2.conf", &t).ok());
  EXPECT_EQ(t.client_id, "c-1");
  EXPECT_EQ(t.provider, "microsoft365");
  EXPECT_EQ(t.tenant, "contoso.com");

  ImportedToken own;
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kSaslXoauth2, R"({"refresh_token":"R","client_id":"own"})", "tok", &own).ok());
  ASSERT_TRUE(MergeSaslXoauth2Conf(R"({"client_id":"conf"})", "conf", &own).ok());
  EXPECT_EQ(own.client_id, "own");
  EXPECT_FALSE(MergeSaslXoauth2Conf("client_id = x", "/etc/sasl-xoauth2.conf", &own).ok());
}

TEST(OAuthImportTest, ProviderFromTheTokenEndpoint) {
  std::string p, t;
  ASSERT_TRUE(ProviderOfTokenEndpoint("https://accounts.google.com/o/oauth2/token", &p, &t));
  EXPECT_EQ(p, "gmail");
  ASSERT_TRUE(ProviderOfTokenEndpoint("https://login.microsoftonline.com/consumers/oauth2/v2.0/token", &p, &t));
  EXPECT_EQ(p, "outlook");
  ASSERT_TRUE(ProviderOfTokenEndpoint("https://login.microsoftonline.com/common/oauth2/v2.0/token", &p, &t));
  EXPECT_EQ(p, "microsoft365");
  EXPECT_EQ(t, "common");
  EXPECT_FALSE(ProviderOfTokenEndpoint("https://login.microsoftonline.com.evil.example/x/token", &p, &t));
  EXPECT_FALSE(ProviderOfTokenEndpoint("https://127.0.0.1:8443/token", &p, &t));
}

TEST(OAuthImportTest, MuttOauth2TokenFile) {
  ImportedToken t;
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kMuttOauth2,
                             R"({"registration":"microsoft","authflow":"devicecode","email":"me@contoso.com",)"
                             R"("access_token":"EwB","access_token_expiration":"2026-12-06T07:00:00.123456",)"
                             R"("refresh_token":"M.C5","client_id":"08162f7c","client_secret":"","tenant":"contoso.com"})",
                             "token.json", &t).ok());
  EXPECT_EQ(t.provider, "microsoft365");
  EXPECT_EQ(t.tenant, "contoso.com");
  EXPECT_EQ(t.email, "me@contoso.com");
  EXPECT_EQ(t.access_expiry, 0);  // local time without a zone: refreshed at first use
  EXPECT_TRUE(t.notes.empty());

  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kMuttOauth2,
                             R"({"registration":"google","email":"me@gmail.com","refresh_token":"1//x",)"
                             R"("access_token":"","access_token_expiration":""})",
                             "old-token", &t).ok());
  EXPECT_EQ(t.provider, "gmail");
  EXPECT_TRUE(Mentions(t.notes, "--client-id"));
}

TEST(OAuthImportTest, OamaAuthRecord) {
  ImportedToken t;
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kOama,
                             R"({"access_token":"ya29.x","expires_in":3599,"scope":"https://mail.google.com/",)"
                             R"("token_type":"Bearer","exp_date":"2026-12-06 06:55 UTC","refresh_token":"1//y",)"
                             R"("email":"me@gmail.com","service":"google"})",
                             "me@gmail.com.oama", &t).ok());
  EXPECT_EQ(t.provider, "gmail");
  EXPECT_EQ(t.access_expiry, 1796540100);  // 2026-12-06 06:55:00 UTC
  EXPECT_EQ(t.scope, "https://mail.google.com/");
  EXPECT_TRUE(Mentions(t.notes, "config.yaml"));
  ASSERT_TRUE(ParseTokenFile(TokenFileFormat::kOama,
                             R"({"access_token":"a","expires_in":1,"token_type":"Bearer","exp_date":"2026-12-06 06:55 CET",)"
                             R"("refresh_token":"r","service":"microsoft"})",
                             "x", &t).ok());
  EXPECT_EQ(t.provider, "microsoft365");
  EXPECT_EQ(t.access_expiry, 0);  // not UTC: not guessed
}

TEST(OAuthImportTest, RefusalsNameTheFileAndTheFixNeverTheToken) {
  struct Case {
    TokenFileFormat f;
    std::string text;
    const char* says;
  };
  const std::string armour = "-----BEGIN PGP MESSAGE-----\n\nhQEMA...\n-----END PGP MESSAGE-----\n";
  const std::string binary = std::string("\x85\x01\x0c\x03", 4) + "SECRETbytes";
  for (const Case& c : {Case{TokenFileFormat::kMuttOauth2, armour, "gpg --decrypt tokfile | relayctl oauth import --format mutt_oauth2 -"},
                        Case{TokenFileFormat::kMuttOauth2, binary, "GPG-encrypted"},
                        Case{TokenFileFormat::kOama, binary, "--format oama"},
                        Case{TokenFileFormat::kSaslXoauth2, "", "not a JSON object"},
                        Case{TokenFileFormat::kSaslXoauth2, "[\"SECRET\"]", "not a JSON object"},
                        Case{TokenFileFormat::kSaslXoauth2, R"({"access_token":"SECRET"})", "no refresh_token"},
                        Case{TokenFileFormat::kSaslXoauth2, R"({"refresh_token":"SECRET","expiry":"soon"})", "\"expiry\""},
                        Case{TokenFileFormat::kSaslXoauth2, R"({"refresh_token":42})", "\"refresh_token\" is not a string"},
                        Case{TokenFileFormat::kOama, R"({"refresh_token":"SECRET","service":7})", "\"service\""}}) {
    ImportedToken t;
    Status s = ParseTokenFile(c.f, c.text, "tokfile", &t);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("tokfile"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(LooksGpgEncrypted("\xEF\xBB\xBF{}"));  // a BOM is not OpenPGP
}

}  // namespace
}  // namespace relay
