// The sender the provider accepts (sender_rewrite.h): pure, no I/O.
#include "relay/deliver/sender_rewrite.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

SenderPolicy Policy(SenderRewrite mode = SenderRewrite::kEnvelopeAndHeader, std::string map = "") {
  Config cfg;
  cfg.sender_rewrite = mode;
  cfg.auth_user = "me@provider.example";
  cfg.allowed_senders = {"alias@provider.example", "@own.example"};
  SenderPolicy p;
  EXPECT_TRUE(MakeSenderPolicy(cfg, "example.com", "host.example.com", map, &p).ok());
  return p;
}

TEST(SenderRewrite, WhichSendersAreRewritten) {
  SenderPolicy p = Policy(SenderRewrite::kEnvelope, "www-data web@provider.example\nbob@host.example.com b@provider.example\n");
  struct Case {
    const char* sender;
    const char* want;  // "" : left alone
  } cases[] = {
      {"", ""},                                              // the null sender: never
      {"root@host.example.com", "me@provider.example"},      // the host's name
      {"root@example.com", "me@provider.example"},           // the mail domain
      {"ROOT@Example.COM", "me@provider.example"},           // case does not matter
      {"cron@localhost", "me@provider.example"},
      {"root", "me@provider.example"},                       // unqualified
      {"www-data@example.com", "web@provider.example"},      // the map, by user
      {"bob@host.example.com", "b@provider.example"},        // the map, by address
      {"bob@example.com", "me@provider.example"},            // the full key names one domain only
      {"me@provider.example", ""},                           // the login itself
      {"Me@Provider.Example", ""},
      {"alias@provider.example", ""},                        // allowed_senders
      {"anyone@own.example", ""},                            // an allowed domain
      {"someone@elsewhere.example", ""},                     // not local: the user's business
      {"root@example.com.evil.example", ""},                 // a suffix is not the domain
      {"web@provider.example", ""},                          // not local either
  };
  for (const Case& c : cases) EXPECT_EQ(RewrittenSender(p, c.sender), c.want) << c.sender;
}

TEST(SenderRewrite, NothingWithoutAModeOrAnAddress) {
  EXPECT_EQ(RewrittenSender(Policy(SenderRewrite::kNone), "root@example.com"), "");
  Config cfg;
  cfg.sender_rewrite = SenderRewrite::kEnvelope;
  cfg.auth_user = "login-name";  // not an address: no default
  SenderPolicy p;
  ASSERT_TRUE(MakeSenderPolicy(cfg, "example.com", "h.example.com", "", &p).ok());
  EXPECT_FALSE(p.active());
  EXPECT_EQ(RewrittenSender(p, "root@example.com"), "");
  cfg.sender_address = "set@provider.example";
  ASSERT_TRUE(MakeSenderPolicy(cfg, "example.com", "h.example.com", "", &p).ok());
  EXPECT_EQ(RewrittenSender(p, "root@example.com"), "set@provider.example");
}

TEST(SenderRewrite, MapErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;  // in the message
  } errors[] = {
      {"root\n", "line 1: expected"},
      {"# c\n\nroot me\n", "line 3: 'me' is not an address"},
      {"root a@x.example b@x.example\n", "line 1: more than one address"},
      {"root @x.example\n", "line 1: '@x.example' is not an address"},
      {"@host a@x.example\n", "line 1: '@host' is not a user"},
      {"root <a@x.example>\n", "is not an address"},
  };
  for (const Case& c : errors) {
    std::map<std::string, std::string> m;
    Status s = ParseSenderMap(c.text, &m);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.error), std::string::npos) << s.message();
  }
  std::map<std::string, std::string> m;
  ASSERT_TRUE(ParseSenderMap("# users\n  Root\tadmin@x.example  \r\nwww-data w@x.example", &m).ok());
  EXPECT_EQ(m["root"], "admin@x.example");
  EXPECT_EQ(m["www-data"], "w@x.example");
}

TEST(SenderRewrite, FromHeaderKeepsTheDisplayNameAndFolding) {
  SenderPolicy p = Policy();
  struct Case {
    const char* head;
    const char* want;  // "" : unchanged
  } cases[] = {
      {"From: Cron Daemon <root@host.example.com>\r\nSubject: x\r\n\r\n",
       "From: Cron Daemon <me@provider.example>\r\nX-Original-From: root@host.example.com\r\nSubject: x\r\n\r\n"},
      {"Subject: x\r\nfrom: root@example.com (Cron Daemon)\r\n\r\n",
       "Subject: x\r\nfrom: me@provider.example (Cron Daemon)\r\nX-Original-From: root@example.com\r\n\r\n"},
      {"From: \"Doe, <John>\"\r\n <root@example.com>\r\n\r\n",
       "From: \"Doe, <John>\"\r\n <me@provider.example>\r\nX-Original-From: root@example.com\r\n\r\n"},
      {"From: =?UTF-8?B?SsO8cmdlbg==?= <www-data@example.com>\r\n\r\n",
       "From: =?UTF-8?B?SsO8cmdlbg==?= <me@provider.example>\r\nX-Original-From: www-data@example.com\r\n\r\n"},
      {"From: root@example.com\r\nX-Original-From: kept@example.com\r\n\r\n",
       "From: me@provider.example\r\nX-Original-From: kept@example.com\r\n\r\n"},
      {"From: root@example.com\r\n", "From: me@provider.example\r\nX-Original-From: root@example.com\r\n"},
      // Left alone:
      {"From: Me <me@provider.example>\r\n\r\n", ""},        // already allowed
      {"From: a@elsewhere.example\r\n\r\n", ""},              // not local
      {"From: root@example.com, bob@example.com\r\n\r\n", ""},  // two mailboxes
      {"From: team: root@example.com;\r\n\r\n", ""},          // a group
      {"From: root@example.com\r\nFrom: root@example.com\r\n\r\n", ""},  // two fields
      {"Subject: no from\r\n\r\n", ""},
      {"Subject: x\r\n\r\nFrom: root@example.com\r\n", ""},  // in the body
      {"From: not an address at all\r\n\r\n", ""},
  };
  for (const Case& c : cases) {
    std::string out = "untouched";
    bool changed = RewriteFromHeader(p, c.head, &out);
    if (*c.want == '\0') {
      EXPECT_FALSE(changed) << c.head;
      EXPECT_EQ(out, "untouched");
    } else {
      EXPECT_TRUE(changed) << c.head;
      EXPECT_EQ(out, c.want);
    }
  }
  std::string out;
  EXPECT_FALSE(RewriteFromHeader(Policy(SenderRewrite::kEnvelope), "From: root@example.com\r\n\r\n", &out))
      << "envelope only: the header stays";
}

TEST(SenderRewrite, HeaderBlockSize) {
  EXPECT_EQ(HeaderBlockSize("A: b\r\n\r\nbody\r\n"), 8u);
  EXPECT_EQ(HeaderBlockSize("\r\nbody\r\n"), 2u);
  EXPECT_EQ(HeaderBlockSize("A: b\r\nB: c\r\n"), std::string_view::npos);
}

}  // namespace
}  // namespace relay
