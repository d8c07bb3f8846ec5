#include "relay/smtp/smtp_reply.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

struct Case {
  const char* input;
  int code;
  size_t lines;
  const char* enhanced;
  const char* text;
};

TEST(ReplyParser, Cases) {
  const Case cases[] = {
      {"250 ok\r\n", 250, 1, "", "250 ok"},
      {"250 2.1.0 Sender ok\r\n", 250, 1, "2.1.0", "250 2.1.0 Sender ok"},
      {"550 5.1.1 <x>: unknown\r\n", 550, 1, "5.1.1", "550 5.1.1 <x>: unknown"},
      {"550 4.1.1 class mismatch\r\n", 550, 1, "", "550 4.1.1 class mismatch"},
      {"250-a\r\n250-b\r\n250 c\r\n", 250, 3, "", "250 a / b / c"},
      {"220\r\n", 220, 1, "", "220 "},
      {"250 bare lf\n", 250, 1, "", "250 bare lf"},
      {"421 4.7.0 bye\x01\r\n", 421, 1, "4.7.0", "421 4.7.0 bye?"},
  };
  for (const Case& c : cases) {
    ReplyParser p;
    p.Feed(c.input);
    Reply r;
    std::string err;
    ASSERT_EQ(p.Next(&r, &err), ReplyParser::Result::kReply) << c.input << err;
    EXPECT_EQ(r.code, c.code);
    EXPECT_EQ(r.lines.size(), c.lines);
    EXPECT_EQ(r.enhanced, c.enhanced);
    EXPECT_EQ(r.Text(), c.text);
    EXPECT_EQ(p.buffered(), 0u);
  }
}

TEST(ReplyParser, Errors) {
  const char* errors[] = {
      "hello\r\n", "25\r\n", "150 x\r\n", "650 x\r\n", "250x\r\n", "250-a\r\n251 b\r\n",
  };
  for (const char* e : errors) {
    ReplyParser p;
    p.Feed(e);
    Reply r;
    std::string err;
    EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kError) << e;
    EXPECT_FALSE(err.empty());
  }
  ReplyParser nul;
  nul.Feed(std::string("250 a\0b\r\n", 9));
  Reply r;
  std::string err;
  EXPECT_EQ(nul.Next(&r, &err), ReplyParser::Result::kError);
}

TEST(ReplyParser, BoundsLongLinesAndEndlessReplies) {
  ReplyParser p;
  p.Feed("250 " + std::string(600, 'x'));
  Reply r;
  std::string err;
  EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kError);
  ReplyParser q;
  for (int i = 0; i < 200; ++i) q.Feed("250-more\r\n");
  EXPECT_EQ(q.Next(&r, &err), ReplyParser::Result::kError);
  EXPECT_NE(err.find("100 lines"), std::string::npos);
}

TEST(ReplyParser, SplitAcrossFeedsAndBuffered) {
  ReplyParser p;
  Reply r;
  std::string err;
  p.Feed("22");
  EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kNeedMore);
  p.Feed("0 go ahead\r\nEVIL");
  EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kReply);
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(p.buffered(), 4u);  // what STARTTLS injection looks like
}

TEST(Ehlo, Capabilities) {
  ReplyParser p;
  p.Feed("250-mail.test hi\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
         "250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-dsn\r\n250-SMTPUTF8\r\n"
         "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
  Reply r;
  std::string err;
  ASSERT_EQ(p.Next(&r, &err), ReplyParser::Result::kReply);
  Capabilities c = ParseEhlo(r);
  EXPECT_TRUE(c.pipelining && c.eightbitmime && c.dsn && c.smtputf8 && c.starttls &&
              c.enhanced_status && c.size_advertised);
  EXPECT_EQ(c.size_limit, 10240000u);
  EXPECT_EQ(c.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

}  // namespace
}  // namespace relay
