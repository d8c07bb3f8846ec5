#include "relay/smtp/sasl.h"

#include <gtest/gtest.h>

#include "relay/smtp/smtp_session.h"

namespace relay {
namespace {

TEST(Base64, RoundTrip) {
  const char* cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                            {"\0user\0pass", "AHVzZXIAcGFzcw=="}};
  for (auto& c : cases) {
    std::string in = c[0][0] == '\0' && c[1][0] == 'A' ? std::string("\0user\0pass", 10) : c[0];
    EXPECT_EQ(Base64Encode(in), c[1]);
    std::string out;
    ASSERT_TRUE(Base64Decode(c[1], &out));
    EXPECT_EQ(out, in);
  }
  std::string out;
  EXPECT_FALSE(Base64Decode("Zm9v!", &out));
  EXPECT_FALSE(Base64Decode("Zg==Zg", &out));
}

TEST(Sasl, ChooseMechanism) {
  EXPECT_EQ(ChooseMechanism(DefaultMechanismPreference(), {"PLAIN", "LOGIN", "CRAM-MD5"}), "CRAM-MD5");
  EXPECT_EQ(ChooseMechanism(DefaultMechanismPreference(), {"LOGIN", "SCRAM-SHA-256"}), "SCRAM-SHA-256");
  EXPECT_EQ(ChooseMechanism(DefaultMechanismPreference(), {"XOAUTH2"}), "");
  EXPECT_EQ(ChooseMechanism({"LOGIN", "PLAIN"}, {"PLAIN", "LOGIN"}), "LOGIN");
}

TEST(Sasl, BearerTokens) {
  std::string initial;
  bool has = false;
  auto x = NewXOAuth2("me@x.org", "tok");
  ASSERT_TRUE(x->Start(&initial, &has).ok());
  EXPECT_TRUE(has);
  EXPECT_EQ(initial, std::string("user=me@x.org\x01" "auth=Bearer tok\x01\x01"));
  auto o = NewOAuthBearer("me@x.org", "tok");
  ASSERT_TRUE(o->Start(&initial, &has).ok());
  EXPECT_EQ(initial, std::string("n,a=me@x.org,\x01" "auth=Bearer tok\x01\x01"));
  std::string resp;
  ASSERT_TRUE(o->Step("{\"status\":\"invalid_token\"}", &resp).ok());
  EXPECT_EQ(resp, "\x01");
}

// A factory handing out one bearer mechanism, as relayd does for XOAUTH2.
class TokenFactory : public SaslClientFactory {
 public:
  explicit TokenFactory(std::string token) : token_(std::move(token)) {}
  std::unique_ptr<SaslMechanism> Create(const std::vector<std::string>& server,
                                        std::string* error) override {
    for (const std::string& m : server)
      if (m == "XOAUTH2") return NewXOAuth2("me@x.org", token_);
    *error = "no XOAUTH2";
    return nullptr;
  }
  std::string token_;
};

Reply R(const std::string& text) {
  ReplyParser p;
  p.Feed(text);
  Reply r;
  std::string err;
  EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kReply);
  return r;
}

TEST(SessionAuth, LogsInOnceAfterTlsWithLongToken) {
  TokenFactory f(std::string(4096, 't'));
  SmtpSession s({"client.test", true, false, &f, false});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250-AUTH XOAUTH2\r\n250 STARTTLS\r\n"));
  EXPECT_EQ(s.TakeOutput(), "STARTTLS\r\n");  // AUTH offered before TLS: not used
  s.OnReply(R("220 go\r\n"));
  s.OnTlsUp();
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250 AUTH XOAUTH2 PLAIN\r\n"));
  EXPECT_EQ(s.stage(), Stage::kAuth);
  EXPECT_EQ(s.TakeOutput(), "AUTH XOAUTH2\r\n");  // token too long for the line
  s.OnReply(R("334 \r\n"));
  std::string resp = s.TakeOutput();
  std::string decoded;
  ASSERT_TRUE(Base64Decode(resp.substr(0, resp.size() - 2), &decoded));
  EXPECT_EQ(decoded, "user=me@x.org\x01" "auth=Bearer " + std::string(4096, 't') + "\x01\x01");
  s.OnReply(R("235 2.7.0 ok\r\n"));
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.want(), SmtpSession::Want::kMessage);
}

TEST(SessionAuth, NoCredentialsWithoutTls) {
  TokenFactory f("tok");
  SmtpSession s({"client.test", false, false, &f, false});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250 AUTH XOAUTH2\r\n"));
  std::string out = s.TakeOutput();
  EXPECT_EQ(out, "QUIT\r\n");
  EXPECT_NE(s.session_error().find("no TLS"), std::string::npos);
}

TEST(SessionAuth, BadCredentialsDefer) {
  TokenFactory f("tok");
  SmtpSession s({"client.test", false, false, &f, true});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250 AUTH XOAUTH2\r\n"));
  EXPECT_EQ(s.TakeOutput().substr(0, 13), "AUTH XOAUTH2 ");
  s.OnReply(R("535 5.7.8 bad credentials\r\n"));
  EXPECT_NE(s.session_error().find("authentication failed"), std::string::npos);
  EXPECT_EQ(s.TakeOutput(), "QUIT\r\n");
}

TEST(SessionAuth, NoAuthOfferedAfterTls) {
  TokenFactory f("tok");
  SmtpSession s({"client.test", true, true, &f, false});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250 PIPELINING\r\n"));
  EXPECT_EQ(s.TakeOutput(), "QUIT\r\n");
  EXPECT_NE(s.session_error().find("no AUTH"), std::string::npos);
}

// Issue 17: a refused token is renewed and AUTH tried once more in the
// same session.
class RenewingFactory : public TokenFactory {
 public:
  RenewingFactory(std::string token, bool can_renew) : TokenFactory(std::move(token)), can_renew_(can_renew) {}
  bool Renew() override {
    ++renewals;
    token_ = "fresh" + std::to_string(renewals);
    return can_renew_;
  }
  bool can_renew_;
  int renewals = 0;
};

std::string AuthToken(const std::string& line) {
  std::string decoded;
  size_t sp = line.rfind(' ');
  EXPECT_TRUE(Base64Decode(line.substr(sp + 1, line.size() - sp - 3), &decoded)) << line;
  size_t at = decoded.find("Bearer ");
  return at == std::string::npos ? "" : decoded.substr(at + 7, decoded.find('\x01', at) - at - 7);
}

SmtpSession AtAuth(SaslClientFactory* f, std::string* first) {
  SmtpSession s({"client.test", false, false, f, true});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("250-x\r\n250 AUTH XOAUTH2\r\n"));
  *first = s.TakeOutput();
  return s;
}

TEST(SessionAuth, StaleTokenChallengeIsAnsweredEmptyThenRenewedOnce) {
  RenewingFactory f("stale", true);
  std::string first;
  SmtpSession s = AtAuth(&f, &first);
  EXPECT_EQ(AuthToken(first), "stale");
  // Gmail: 334 + base64 {"status":"401",...}; the answer is an empty line.
  s.OnReply(R("334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\r\n"));
  EXPECT_EQ(s.TakeOutput(), "\r\n");
  EXPECT_EQ(f.renewals, 0);
  s.OnReply(R("535 5.7.8 Username and Password not accepted\r\n"));
  EXPECT_EQ(f.renewals, 1);
  std::string again = s.TakeOutput();
  EXPECT_EQ(again.substr(0, 13), "AUTH XOAUTH2 ");
  EXPECT_EQ(AuthToken(again), "fresh1");
  s.OnReply(R("235 2.7.0 Accepted\r\n"));
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.want(), SmtpSession::Want::kMessage);
}

TEST(SessionAuth, SecondRefusalAfterRenewalDefers) {
  RenewingFactory f("stale", true);
  std::string first;
  SmtpSession s = AtAuth(&f, &first);
  s.OnReply(R("535 5.7.3 Authentication unsuccessful\r\n"));
  EXPECT_EQ(AuthToken(s.TakeOutput()), "fresh1");
  s.OnReply(R("535 5.7.3 Authentication unsuccessful\r\n"));
  EXPECT_EQ(f.renewals, 1) << "one renewal per session";
  EXPECT_EQ(s.TakeOutput(), "QUIT\r\n");
  EXPECT_NE(s.session_error().find("the token was refused"), std::string::npos) << s.session_error();
}

TEST(SessionAuth, NoRenewalWhenThereIsNoFreshToken) {
  RenewingFactory f("stale", false);
  std::string first;
  SmtpSession s = AtAuth(&f, &first);
  s.OnReply(R("535 5.7.8 bad\r\n"));
  EXPECT_EQ(f.renewals, 1);
  EXPECT_EQ(s.TakeOutput(), "QUIT\r\n");
  EXPECT_FALSE(s.session_error().empty());
}

TEST(SessionAuth, RefusalsATokenCannotFixAreNotRenewed) {
  for (const char* reply : {"454 4.7.0 Too many login attempts, please try again later\r\n",
                            "530 5.7.0 Must issue a STARTTLS command first\r\n",
                            "504 5.5.4 Unrecognized authentication type\r\n",
                            "421 4.7.0 Try again later, closing connection\r\n"}) {
    RenewingFactory f("tok", true);
    std::string first;
    SmtpSession s = AtAuth(&f, &first);
    s.OnReply(R(reply));
    EXPECT_EQ(f.renewals, 0) << reply;
    EXPECT_FALSE(s.session_error().empty()) << reply;
  }
}

TEST(Sasl, BearerTokenRefused) {
  EXPECT_TRUE(BearerTokenRefused(535, "535 5.7.8 Username and Password not accepted"));
  EXPECT_TRUE(BearerTokenRefused(535, "535 5.7.3 Authentication unsuccessful"));
  EXPECT_TRUE(BearerTokenRefused(454, "454 4.7.0 Your access token will expire soon"));
  EXPECT_TRUE(BearerTokenRefused(535, "535 5.5.127 token expired"));
  EXPECT_TRUE(BearerTokenRefused(550, "550 5.5.127 Token Expired"));
  EXPECT_TRUE(BearerTokenRefused(451, "451 4.7.0 invalid token"));
  EXPECT_FALSE(BearerTokenRefused(454, "454 4.7.0 Too many login attempts"));
  EXPECT_FALSE(BearerTokenRefused(530, "530 5.7.0 Must issue a STARTTLS command first"));
  EXPECT_FALSE(BearerTokenRefused(421, "421 4.7.0 Try again later"));
  EXPECT_TRUE(IsBearerMechanism("XOAUTH2"));
  EXPECT_TRUE(IsBearerMechanism("OAUTHBEARER"));
  EXPECT_FALSE(IsBearerMechanism("PLAIN"));
}

}  // namespace
}  // namespace relay
