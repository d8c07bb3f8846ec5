// The OAuth 2.0 refresh policy (oauth_policy.h): pure, the time is passed in.
#include "relay/deliver/oauth_policy.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

OAuthToken Live(int64_t expiry) {
  OAuthToken t;
  t.client_id = "cid";
  t.refresh_token = "SECRET-rt";
  t.access_token = "SECRET-at";
  t.access_expiry = expiry;
  return t;
}

TEST(OAuthPolicy, RefreshesTenMinutesAhead) {
  const int64_t now = 1000000;
  EXPECT_FALSE(NeedsRefresh(Live(now + 3600), now, 600));
  EXPECT_FALSE(NeedsRefresh(Live(now + 601), now, 600));
  EXPECT_TRUE(NeedsRefresh(Live(now + 600), now, 600)) << "at least ten minutes ahead";
  EXPECT_TRUE(NeedsRefresh(Live(now + 599), now, 600));
  EXPECT_TRUE(NeedsRefresh(Live(now - 1), now, 600));
  EXPECT_TRUE(NeedsRefresh(Live(0), now, 600)) << "unknown expiry";
  OAuthToken none = Live(now + 3600);
  none.access_token.clear();
  EXPECT_TRUE(NeedsRefresh(none, now, 600));
  EXPECT_FALSE(NeedsRefresh(Live(now + 1), now, 0)) << "oauth_refresh_ahead = 0: until it expires";
  EXPECT_TRUE(NeedsRefresh(Live(now), now, 0));
}

TEST(OAuthPolicy, FormEncoding) {
  EXPECT_EQ(FormEncode({{"a", "b c"}, {"scope", "https://outlook.office.com/SMTP.Send offline_access"}}),
            "a=b+c&scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send+offline_access");
  EXPECT_EQ(FormEncode({{"t", "1/x+y=z&w~._-"}}), "t=1%2Fx%2By%3Dz%26w~._-");
}

TEST(OAuthPolicy, RefreshRequestPerRfc6749Section6) {
  OAuthToken t = Live(0);
  t.client_secret = "cs";
  std::string body;
  ASSERT_TRUE(BuildTokenRequest(t, "https://mail.google.com/", &body).ok());
  EXPECT_EQ(body, "grant_type=refresh_token&refresh_token=SECRET-rt&client_id=cid&client_secret=cs&"
                  "scope=https%3A%2F%2Fmail.google.com%2F");
  t.client_secret.clear();
  ASSERT_TRUE(BuildTokenRequest(t, "", &body).ok());
  EXPECT_EQ(body, "grant_type=refresh_token&refresh_token=SECRET-rt&client_id=cid");
}

TEST(OAuthPolicy, ClientCredentialsRequest) {
  OAuthToken t;
  t.kind = "client_credentials";
  t.client_id = "cid";
  std::string body;
  Status s = BuildTokenRequest(t, "", &body);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("client_secret"), std::string::npos);
  t.client_secret = "cs";
  ASSERT_TRUE(BuildTokenRequest(t, "https://outlook.office365.com/.default", &body).ok());
  EXPECT_EQ(body, "grant_type=client_credentials&client_id=cid&client_secret=cs&"
                  "scope=https%3A%2F%2Foutlook.office365.com%2F.default");
}

TEST(OAuthPolicy, NothingToRefreshWithNamesTheFix) {
  OAuthToken t = Live(0);
  t.refresh_token.clear();
  std::string body;
  Status s = BuildTokenRequest(t, "", &body);
  EXPECT_NE(s.message().find("relayctl oauth login"), std::string::npos) << s.message();
  t = Live(0);
  t.client_id.clear();
  s = BuildTokenRequest(t, "", &body);
  EXPECT_NE(s.message().find("client_id"), std::string::npos) << s.message();
}

TEST(OAuthPolicy, GoodAnswer) {
  TokenGrant g;
  Status s = ReadTokenResponse(
      200, R"({"access_token":"SECRET-a","token_type":"Bearer","expires_in":3599,"refresh_token":"SECRET-r"})", "",
      &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.access_token, "SECRET-a");
  EXPECT_EQ(g.refresh_token, "SECRET-r");
  EXPECT_EQ(g.expires_in, 3599);
  ASSERT_TRUE(ReadTokenResponse(200, R"({"access_token":"a","token_type":"bearer","expires_in":"60"})", "", &g).ok());
  EXPECT_EQ(g.expires_in, 60);
  EXPECT_EQ(g.refresh_token, "") << "not rotated";
  ASSERT_TRUE(ReadTokenResponse(200, R"({"access_token":"a","token_type":"Bearer"})", "", &g).ok());
  EXPECT_EQ(g.expires_in, 3600) << "expires_in is only RECOMMENDED";
}

// Every failure is temporary (the mail waits), names what to do, and
// never holds a token.
TEST(OAuthPolicy, EveryFailureIsTemporaryAndNamesTheFix) {
  struct Case {
    long http;
    const char* body;
    const char* transport;
    const char* says;
    bool fix;
  } cases[] = {
      {400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})", "",
       "refresh token is no longer accepted", true},
      {400, R"({"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity."})",
       "", "AADSTS700082", true},
      {401, R"({"error":"invalid_client"})", "", "client id or secret was refused", true},
      {400, R"({"error":"invalid_scope"})", "", "scope was refused", true},
      {503, "<html>down</html>", "", "provider is unavailable", false},
      {429, "", "", "provider is unavailable", false},
      {0, "", "Couldn't connect to server", "token endpoint unreachable", false},
      {0, "", "Timeout was reached: Operation timed out after 30000 milliseconds", "Timeout was reached", false},
      {0, "", "SSL peer certificate or SSH remote key was not OK", "certificate", false},
      {200, "not json SECRET-x", "", "without a JSON object", false},
      {200, R"({"token_type":"Bearer"})", "", "no bearer access_token", false},
      {200, R"({"access_token":"SECRET-mac","token_type":"mac"})", "", "no bearer access_token", false},
      {400, R"({"error":"weird\u0007\n"})", "", "weird", true},
  };
  for (const Case& c : cases) {
    TokenGrant g;
    Status s = ReadTokenResponse(c.http, c.body, c.transport, &g);
    EXPECT_TRUE(s.temporary()) << c.body;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("relayctl oauth login") != std::string::npos, c.fix) << s.message();
    EXPECT_TRUE(g.access_token.empty());
  }
}

TEST(OAuthPolicy, ApplyGrantRotatesAndDatesTheRefreshToken) {
  OAuthToken t = Live(0);
  t.refresh_token_issued = 500;
  TokenGrant g;
  g.access_token = "new-at";
  g.expires_in = 3600;
  ApplyGrant(g, 1000, &t);
  EXPECT_EQ(t.access_token, "new-at");
  EXPECT_EQ(t.access_expiry, 4600);
  EXPECT_EQ(t.last_refresh, 1000);
  EXPECT_EQ(t.refresh_token, "SECRET-rt") << "kept when not rotated";
  EXPECT_EQ(t.refresh_token_issued, 500);
  g.refresh_token = "rotated";
  ApplyGrant(g, 2000, &t);
  EXPECT_EQ(t.refresh_token, "rotated");
  EXPECT_EQ(t.refresh_token_issued, 2000);
}

}  // namespace
}  // namespace relay
