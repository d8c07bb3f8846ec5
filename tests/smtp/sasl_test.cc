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

}  // namespace
}  // namespace relay
