#include "relay/admin/oauth_flow.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace relay {
namespace {

TEST(Base64UrlTest, Rfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64Url(""), "");
  EXPECT_EQ(Base64Url("f"), "Zg");
  EXPECT_EQ(Base64Url("fo"), "Zm8");
  EXPECT_EQ(Base64Url("foo"), "Zm9v");
  EXPECT_EQ(Base64Url("foob"), "Zm9vYg");
  EXPECT_EQ(Base64Url("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64Url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Url(std::string("\xfb\xff\xfe", 3)), "-__-");  // the url-safe letters
}

TEST(PkceTest, Rfc7636AppendixB) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(PkceTest, FreshVerifiersAreLongEnoughUnreservedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    Pkce p;
    ASSERT_TRUE(NewPkce(&p).ok());
    EXPECT_EQ(p.verifier.size(), 43u);
    EXPECT_EQ(p.verifier.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(p.challenge, PkceChallenge(p.verifier));
    EXPECT_TRUE(seen.insert(p.verifier).second);
    std::string state;
    ASSERT_TRUE(NewState(&state).ok());
    EXPECT_EQ(state.size(), 22u);
    EXPECT_TRUE(seen.insert(state).second);
  }
}

TEST(UrlEncodingTest, EncodesAllButUnreservedAndDecodesBack) {
  EXPECT_EQ(UrlEncode("a b&c=d/é~._-"), "a%20b%26c%3Dd%2F%C3%A9~._-");
  std::string out;
  ASSERT_TRUE(UrlDecode("a%20b+c%2fd", &out));
  EXPECT_EQ(out, "a b c/d");
  for (const char* bad : {"%", "%4", "%zz", "abc%4"}) EXPECT_FALSE(UrlDecode(bad, &out)) << bad;
}

TEST(LoginEndpointsTest, Providers) {
  LoginEndpoints e;
  ASSERT_TRUE(LookupLoginEndpoints("gmail", "", &e).ok());
  EXPECT_EQ(e.authorize_endpoint, "https://accounts.google.com/o/oauth2/v2/auth");
  EXPECT_EQ(e.device_endpoint, "");  // no device flow for the mail scope
  EXPECT_EQ(e.scope, "https://mail.google.com/");
  EXPECT_EQ(e.app_scope, "");
  EXPECT_FALSE(LookupLoginEndpoints("gmail", "contoso.com", &e).ok());

  ASSERT_TRUE(LookupLoginEndpoints("microsoft365", "contoso.onmicrosoft.com", &e).ok());
  EXPECT_EQ(e.authorize_endpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
  EXPECT_EQ(e.device_endpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
  EXPECT_EQ(e.token_endpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(e.app_scope, "https://outlook.office365.com/.default");
  ASSERT_TRUE(LookupLoginEndpoints("microsoft365", "", &e).ok());
  EXPECT_NE(e.token_endpoint.find("/organizations/"), std::string::npos);
  ASSERT_TRUE(LookupLoginEndpoints("outlook", "", &e).ok());
  EXPECT_NE(e.token_endpoint.find("/consumers/"), std::string::npos);
  EXPECT_EQ(e.app_scope, "");
  Status s = LookupLoginEndpoints("microsoft365", "a/../b", &e);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tenant"), std::string::npos);
  s = LookupLoginEndpoints("yahoo", "", &e);
  EXPECT_EQ(s.kind(), Status::Kind::kUsage);
  EXPECT_NE(s.message().find("gmail, google-workspace-relay, microsoft365, outlook"), std::string::npos);
}

TEST(LoginEndpointsTest, MicrosoftsFollowAMovedTokenEndpoint) {
  LoginEndpoints e;
  ASSERT_TRUE(LookupLoginEndpoints("microsoft365", "contoso.us", &e).ok());
  ASSERT_TRUE(FollowMicrosoftTokenEndpoint("https://login.microsoftonline.us/contoso.us/oauth2/v2.0/token", &e));
  EXPECT_EQ(e.authorize_endpoint, "https://login.microsoftonline.us/contoso.us/oauth2/v2.0/authorize");
  EXPECT_EQ(e.device_endpoint, "https://login.microsoftonline.us/contoso.us/oauth2/v2.0/devicecode");
  EXPECT_EQ(e.token_endpoint, "https://login.microsoftonline.us/contoso.us/oauth2/v2.0/token");
  LoginEndpoints before = e;
  for (const char* other : {"https://idp.example/token", "http://login.microsoftonline.us/t/oauth2/v2.0/token",
                            "https://x/oauth2/v2.0/tokens", "/oauth2/v2.0/token"}) {
    EXPECT_FALSE(FollowMicrosoftTokenEndpoint(other, &e)) << other;
    EXPECT_EQ(e.authorize_endpoint, before.authorize_endpoint) << other;
  }
  ASSERT_TRUE(LookupLoginEndpoints("gmail", "", &e).ok());
  EXPECT_FALSE(FollowMicrosoftTokenEndpoint("https://login.microsoftonline.us/t/oauth2/v2.0/token", &e));
  EXPECT_EQ(e.authorize_endpoint, "https://accounts.google.com/o/oauth2/v2/auth");
}

TEST(AuthorizationUrlTest, GoogleAsksForOfflineAccessAndConsent) {
  LoginEndpoints e;
  ASSERT_TRUE(LookupLoginEndpoints("gmail", "", &e).ok());
  AuthorizationRequest r{e.authorize_endpoint, "123.apps.googleusercontent.com", "http://127.0.0.1:4711/",
                         e.scope, "st4te", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "", e.authorize_extra};
  EXPECT_EQ(AuthorizationUrl(r),
            "https://accounts.google.com/o/oauth2/v2/auth?response_type=code"
            "&client_id=123.apps.googleusercontent.com&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2F"
            "&scope=https%3A%2F%2Fmail.google.com%2F&state=st4te"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
            "&access_type=offline&prompt=consent");
  r.authorize_endpoint = "https://127.0.0.1:9/authorize?tenant=x";
  r.extra.clear();
  r.login_hint = "me@example.com";
  std::string url = AuthorizationUrl(r);
  EXPECT_EQ(url.rfind("https://127.0.0.1:9/authorize?tenant=x&response_type=code", 0), 0u);
  EXPECT_NE(url.find("&login_hint=me%40example.com"), std::string::npos);
}

TEST(RedirectTest, CodeOnlyWithTheRightState) {
  std::string code;
  ASSERT_TRUE(ParseRedirectTarget("/?code=4%2F0Ab-x&state=s1&scope=x", "s1", &code).ok());
  EXPECT_EQ(code, "4/0Ab-x");
  struct Bad {
    const char* target;
    const char* says;
  };
  for (Bad b : {Bad{"/", "no query"}, Bad{"/?code=abc", "no state"}, Bad{"/?code=abc&state=s2", "does not match"},
                Bad{"/?state=s1", "no code"}, Bad{"/?state=s1&code=", "no code"},
                Bad{"/?error=access_denied&error_description=The+user+said+no&state=s1", "access_denied: The user said no"},
                Bad{"/?code=%zz&state=s1", "not URL-encoded"}}) {
    Status s = ParseRedirectTarget(b.target, "s1", &code);
    EXPECT_FALSE(s.ok()) << b.target;
    EXPECT_NE(s.message().find(b.says), std::string::npos) << b.target << ": " << s.message();
  }
}

// A redirect without this login's state is not an answer to it, whatever
// else it says (an error included): the caller refuses it and waits on.
// Only one with the right state ends the login, with its code or error.
TEST(RedirectTest, OnlyTheRightStateEndsTheLogin) {
  struct Case {
    const char* target;
    bool not_ours;
    const char* says;
  };
  for (Case c : {Case{"/?code=stolen&state=s2", true, "does not match"}, Case{"/?code=stolen", true, "no state"},
                 Case{"/?error=access_denied&state=s2", true, "does not match"},
                 Case{"/?error=access_denied", true, "no state"}, Case{"/", true, "no query"},
                 Case{"/?code=%zz&state=s1", true, "not URL-encoded"},
                 Case{"/?error=access_denied&state=s1", false, "access_denied"},
                 Case{"/?state=s1", false, "no code"}}) {
    std::string code = "unchanged";
    bool not_ours = !c.not_ours;
    Status s = ParseRedirectTarget(c.target, "s1", &code, &not_ours);
    EXPECT_FALSE(s.ok()) << c.target;
    EXPECT_EQ(not_ours, c.not_ours) << c.target;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << c.target << ": " << s.message();
    EXPECT_EQ(s.message().find("stolen"), std::string::npos) << s.message();
    EXPECT_EQ(code, "unchanged");
  }
  std::string code;
  bool not_ours = true;
  ASSERT_TRUE(ParseRedirectTarget("/?code=c1&state=s1", "s1", &code, &not_ours).ok());
  EXPECT_FALSE(not_ours);
  EXPECT_EQ(code, "c1");
}

TEST(TokenResponseTest, Tokens) {
  TokenResponse t;
  ASSERT_TRUE(ParseTokenResponse(200,
                                 R"({"access_token":"ya29.a","refresh_token":"1//r","token_type":"Bearer",)"
                                 R"("expires_in":3599,"scope":"https://mail.google.com/"})",
                                 &t).ok());
  EXPECT_EQ(t.access_token, "ya29.a");
  EXPECT_EQ(t.refresh_token, "1//r");
  EXPECT_EQ(t.expires_in, 3599);
  ASSERT_TRUE(ParseTokenResponse(200, R"({"access_token":"a","token_type":"bearer","expires_in":"3600"})", &t).ok());
  EXPECT_EQ(t.expires_in, 3600);
  EXPECT_EQ(t.refresh_token, "");
}

TEST(TokenResponseTest, RefusalsNameTheErrorAndNeverTheToken) {
  struct Case {
    long http;
    const char* body;
    bool temporary;
    const char* says;
  };
  TokenResponse t;
  for (Case c : {Case{400, R"({"error":"invalid_grant","error_description":"Bad Request"})", false, "invalid_grant: Bad Request"},
                 Case{401, R"({"error":"invalid_client"})", false, "invalid_client"},
                 Case{503, "<html>down</html>", true, "HTTP 503"},
                 Case{429, R"({"error":"rate"})", true, "rate"},
                 Case{400, R"({"error":"temporarily_unavailable"})", true, "temporarily_unavailable"},
                 Case{200, "not json", true, "not a JSON object"},
                 Case{200, R"({"token_type":"Bearer"})", true, "no access_token"},
                 Case{200, R"({"access_token":"SECRET-AT","token_type":"mac"})", false, "not Bearer"},
                 Case{200, R"({"access_token":"SECRET-AT","expires_in":-5})", true, "expires_in"},
                 Case{200, R"({"access_token":"SECRET-AT","expires_in":"1h"})", true, "expires_in"}}) {
    Status s = ParseTokenResponse(c.http, c.body, &t);
    EXPECT_FALSE(s.ok()) << c.body;
    EXPECT_EQ(s.temporary(), c.temporary) << c.body;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s.message();
  }
}

TEST(DeviceAuthorizationTest, ParsesMicrosoftsAndGooglesNames) {
  DeviceAuthorization d;
  ASSERT_TRUE(ParseDeviceAuthorization(200,
                                       R"({"device_code":"DC","user_code":"ABCD-EFGH","verification_uri":)"
                                       R"("https://microsoft.com/devicelogin","expires_in":900,"interval":5,)"
                                       R"("message":"To sign in..."})",
                                       &d).ok());
  EXPECT_EQ(d.user_code, "ABCD-EFGH");
  EXPECT_EQ(d.verification_uri, "https://microsoft.com/devicelogin");
  EXPECT_EQ(d.expires_in, 900);
  ASSERT_TRUE(ParseDeviceAuthorization(200,
                                       R"({"device_code":"DC","user_code":"X","verification_url":"https://g.co/d",)"
                                       R"("expires_in":"1800"})",
                                       &d).ok());
  EXPECT_EQ(d.verification_uri, "https://g.co/d");
  EXPECT_EQ(d.interval, 5);  // RFC 8628's default
  for (const char* bad : {R"({"user_code":"X","verification_uri":"u","expires_in":9})",
                          R"({"device_code":"D","verification_uri":"u","expires_in":9})",
                          R"({"device_code":"D","user_code":"X","expires_in":9})",
                          R"({"device_code":"D","user_code":"X","verification_uri":"u"})",
                          R"({"device_code":"D","user_code":"X","verification_uri":"u","expires_in":9,"interval":0})",
                          "[]"})
    EXPECT_FALSE(ParseDeviceAuthorization(200, bad, &d).ok()) << bad;
  Status s = ParseDeviceAuthorization(400, R"({"error":"invalid_client","error_description":"no such app"})", &d);
  EXPECT_NE(s.message().find("invalid_client: no such app"), std::string::npos) << s.message();
}

DeviceAuthorization Device(int64_t expires_in, int64_t interval) {
  DeviceAuthorization d;
  d.device_code = "DC";
  d.expires_in = expires_in;
  d.interval = interval;
  return d;
}

const char kPending[] = R"({"error":"authorization_pending"})";
const char kSlowDown[] = R"({"error":"slow_down"})";

TEST(DevicePollTest, PendingThenTokens) {
  DevicePoll p(Device(900, 5));
  TokenResponse t;
  EXPECT_EQ(p.wait_seconds(), 5);
  EXPECT_EQ(p.OnAnswer(400, kPending, &t), DevicePoll::Step::kWait);
  EXPECT_EQ(p.wait_seconds(), 5);
  EXPECT_EQ(p.OnAnswer(200, R"({"access_token":"A","refresh_token":"R","expires_in":60})", &t),
            DevicePoll::Step::kDone);
  EXPECT_EQ(t.refresh_token, "R");
}

TEST(DevicePollTest, SlowDownAddsFiveSecondsForGood) {
  DevicePoll p(Device(900, 5));
  TokenResponse t;
  EXPECT_EQ(p.OnAnswer(400, kSlowDown, &t), DevicePoll::Step::kWait);
  EXPECT_EQ(p.wait_seconds(), 10);
  EXPECT_EQ(p.OnAnswer(400, kPending, &t), DevicePoll::Step::kWait);
  EXPECT_EQ(p.wait_seconds(), 10);
  EXPECT_EQ(p.OnAnswer(400, kSlowDown, &t), DevicePoll::Step::kWait);
  EXPECT_EQ(p.wait_seconds(), 15);
}

TEST(DevicePollTest, GivesUpOnceTheCodeHasExpired) {
  DevicePoll p(Device(12, 5));
  TokenResponse t;
  EXPECT_EQ(p.OnAnswer(400, kPending, &t), DevicePoll::Step::kWait);    // 5 waited, next at 10
  EXPECT_EQ(p.OnAnswer(400, kPending, &t), DevicePoll::Step::kFailed);  // 10 waited, 15 > 12
  EXPECT_NE(p.status().message().find("expired"), std::string::npos);
}

TEST(DevicePollTest, FinalAnswers) {
  struct Case {
    long http;
    const char* body;
    const char* says;
    bool temporary;
  };
  for (Case c : {Case{400, R"({"error":"expired_token"})", "expired", true},
                 Case{400, R"({"error":"access_denied"})", "access_denied", false},
                 Case{400, R"({"error":"invalid_grant"})", "invalid_grant", false},
                 Case{500, "oops", "HTTP 500", true}}) {
    DevicePoll p(Device(900, 5));
    TokenResponse t;
    EXPECT_EQ(p.OnAnswer(c.http, c.body, &t), DevicePoll::Step::kFailed) << c.body;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << p.status().message();
    EXPECT_EQ(p.status().temporary(), c.temporary) << c.body;
  }
}

}  // namespace
}  // namespace relay
