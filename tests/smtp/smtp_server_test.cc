#include "relay/smtp/smtp_server.h"

#include <gtest/gtest.h>

#include "relay/smtp/sasl.h"

#include <cstring>

namespace relay {
namespace {

// Records what the server hands to the spool.
class FakeBackend : public ServerBackend {
 public:
  Status Begin(const MailTransaction& t) override {
    begun.push_back(t);
    data.clear();
    return begin_status;
  }
  Status Data(std::string_view piece) override {
    data += piece;
    return Status::Ok();
  }
  Status End(std::string* id) override {
    if (!end_status.ok()) return end_status;
    *id = "ID" + std::to_string(++committed);
    messages.push_back(data);
    return Status::Ok();
  }
  void Abort() override { ++aborts; }
  std::vector<MailTransaction> begun;
  std::vector<std::string> messages;
  std::string data;
  Status begin_status, end_status;
  int committed = 0, aborts = 0;
};

class ServerTest : public ::testing::Test {
 protected:
  std::string Run(const std::string& in) {
    SmtpServer s(params_, &b_);
    std::string out = s.Greeting() + s.Feed(in);
    closed_ = s.closed();
    return out;
  }
  ServerParams params_{"mx.test", 1000, 3, 5};
  FakeBackend b_;
  bool closed_ = false;
};

TEST_F(ServerTest, PipelinedTransaction) {
  std::string out = Run(
      "EHLO c\r\nMAIL FROM:<a@x> SIZE=10 BODY=8BITMIME RET=HDRS ENVID=e+2B1\r\n"
      "RCPT TO:<b@y> NOTIFY=SUCCESS ORCPT=rfc822;r+2Bx@y\r\nRCPT TO:<c@y>\r\nDATA\r\n"
      "Subject: s\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(out,
            "220 mx.test ESMTP relay\r\n250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
            "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 DSN\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "250 2.0.0 Ok: queued as ID1\r\n221 2.0.0 Bye\r\n");
  ASSERT_EQ(b_.messages.size(), 1u);
  EXPECT_EQ(b_.messages[0], "Subject: s\r\n\r\n.dot\r\nbody\r\n");
  const MailTransaction& t = b_.begun[0];
  EXPECT_EQ(t.sender, "a@x");
  EXPECT_EQ(t.recipients, (std::vector<std::string>{"b@y", "c@y"}));
  EXPECT_EQ(t.orcpts[0], "r+x@y");
  EXPECT_EQ(t.notifies, (std::vector<std::string>{"SUCCESS", ""}));
  EXPECT_EQ(t.ret, "HDRS");
  EXPECT_EQ(t.envid, "e+1");
  EXPECT_EQ(t.body, "8BITMIME");
  EXPECT_TRUE(closed_);
}

// The reply to a final dot goes to the flush function before the next
// message pipelined behind it begins: a session stopped in that message
// (sendmail -bs on SIGTERM) has already sent the 250 for the one before.
TEST_F(ServerTest, FinalDotReplyIsFlushedBeforeTheNextMessageBegins) {
  SmtpServer s(params_, &b_);
  std::vector<std::string> flushed;
  size_t begun_then = 0, committed_then = 0;
  s.set_flush([&](const std::string& out) {
    flushed.push_back(out);
    begun_then = b_.begun.size();
    committed_then = static_cast<size_t>(b_.committed);
    return true;
  });
  std::string rest = s.Feed(
      "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nfirst\r\n.\r\n"
      "MAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nDATA\r\npartial\r\n");
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_TRUE(flushed[0].starts_with("250-mx.test\r\n")) << flushed[0];
  EXPECT_TRUE(flushed[0].ends_with("354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as ID1\r\n"))
      << flushed[0];
  EXPECT_EQ(begun_then, 1u);
  EXPECT_EQ(committed_then, 1u);
  EXPECT_EQ(rest, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(b_.begun.size(), 2u);
  // A refused message's reply goes at once too.
  flushed.clear();
  b_.end_status = Status::TempFail("disk full");
  rest = s.Feed(".\r\nNOOP\r\n");
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0], "451 4.3.0 disk full\r\n");
  EXPECT_EQ(rest, "250 2.0.0 Ok\r\n");
}

// A client gone when the 250 is sent: the session ends there, and what it
// pipelined behind the dot is never begun.
TEST_F(ServerTest, FailedFlushEndsTheSession) {
  SmtpServer s(params_, &b_);
  s.set_flush([](const std::string&) { return false; });
  s.Feed("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nfirst\r\n.\r\n"
         "MAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nDATA\r\npartial\r\n");
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(b_.committed, 1);
  EXPECT_EQ(b_.begun.size(), 1u);
}

// SMTP smuggling: "." on a line ended by a bare LF is message text, not
// the end; only CRLF.CRLF ends the data, and bare LFs become CRLF.
TEST_F(ServerTest, OnlyCrLfDotCrLfEndsData) {
  std::string out = Run(
      "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
      "line\n.\nMAIL FROM:<evil@x>\r\n.\r\n");
  ASSERT_EQ(b_.messages.size(), 1u);
  EXPECT_EQ(b_.messages[0], "line\r\n\r\nMAIL FROM:<evil@x>\r\n");
  EXPECT_EQ(b_.begun.size(), 1u);
}

// Feeds a whole session in segments of `chunk` bytes (0: in one piece), as
// separate reads of a socket would bring them.
std::string FeedInSegments(SmtpServer* s, const std::string& in, size_t chunk) {
  std::string out = s->Greeting();
  if (chunk == 0) return out + s->Feed(in);
  for (size_t i = 0; i < in.size(); i += chunk) out += s->Feed(std::string_view(in).substr(i, chunk));
  return out;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// SMTP smuggling (issue 22): only CR LF "." CR LF ends the data. A dot
// between any other pair of line ends is message text, and so is the
// "transaction" behind it, however the bytes are split into segments: one
// message, from the one real MAIL, to the one real RCPT.
TEST_F(ServerTest, NoSmugglingBehindAnyOtherLineEnd) {
  const struct {
    const char* name;
    const char* before;  // the line end before the dot
    const char* after;   // and after it
  } variants[] = {
      {"<LF>.<LF>", "\n", "\n"},         {"<LF>.<CR><LF>", "\n", "\r\n"}, {"<CR>.<CR><LF>", "\r", "\r\n"},
      {"<CR><LF>.<LF>", "\r\n", "\n"},   {"<CR><LF>.<CR>", "\r\n", "\r"}, {"<LF>.<CR><CR><LF>", "\n", "\r\r\n"},
      {"<CR><LF>.<CR><CR><LF>", "\r\n", "\r\r\n"},
  };
  for (const auto& v : variants) {
    const std::string in = std::string("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nline") + v.before +
                           "." + v.after +
                           "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n";
    for (size_t chunk : {0, 1, 2, 3, 5, 7}) {
      SCOPED_TRACE(std::string(v.name) + " in segments of " + std::to_string(chunk));
      FakeBackend b;
      SmtpServer s(params_, &b);
      std::string out = FeedInSegments(&s, in, chunk);
      EXPECT_EQ(Count(out, "queued as"), 1u) << out;
      EXPECT_EQ(Count(out, "250 2.1.0"), 1u) << "the smuggled MAIL was a command: " << out;
      ASSERT_EQ(b.begun.size(), 1u);
      EXPECT_EQ(b.begun[0].sender, "a@x");
      EXPECT_EQ(b.begun[0].recipients, (std::vector<std::string>{"b@y"}));
      ASSERT_EQ(b.messages.size(), 1u);
      EXPECT_NE(b.messages[0].find("MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nsmuggled\r\n"),
                std::string::npos)
          << b.messages[0];
      EXPECT_TRUE(s.closed());
    }
  }
}

// The DATA command's own line end is the first half of an empty message's
// end: after "DATA<LF>", ".<CR><LF>" is text.
TEST_F(ServerTest, BareLfAfterDataIsNoHalfOfTheEnd) {
  std::string out = Run("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\n.\r\nMAIL FROM:<evil@x>\r\n.\r\n");
  EXPECT_EQ(Count(out, "250 2.1.0"), 1u) << out;
  ASSERT_EQ(b_.messages.size(), 1u);
  EXPECT_EQ(b_.messages[0], "\r\nMAIL FROM:<evil@x>\r\n");
}

// The real end, split anywhere, still ends the data exactly once: two
// messages, each from its own MAIL.
TEST_F(ServerTest, RealEndSplitAcrossSegments) {
  const std::string in =
      "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\none\r\n.\r\n"
      "MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\ntwo\r\n..\r\n.\r\nQUIT\r\n";
  for (size_t chunk : {0, 1, 2, 3, 4}) {
    SCOPED_TRACE(chunk);
    FakeBackend b;
    SmtpServer s(params_, &b);
    std::string out = FeedInSegments(&s, in, chunk);
    EXPECT_EQ(Count(out, "queued as"), 2u) << out;
    ASSERT_EQ(b.messages.size(), 2u);
    EXPECT_EQ(b.messages[0], "one\r\n");
    EXPECT_EQ(b.messages[1], "two\r\n.\r\n");
    EXPECT_EQ(b.begun[1].sender, "c@x");
  }
}

// A bad address is refused at its own command, with a reply that names
// the problem; the transaction goes on for the good recipients (issue 22).
TEST_F(ServerTest, BadAddressesAreRefusedAtTheirCommand) {
  params_.max_recipients = 10;
  std::string out = Run(
      "EHLO c\r\nMAIL FROM:<foo bar>\r\nMAIL FROM:<Subject: foo>\r\nMAIL FROM:<a@x>\r\n"
      "RCPT TO:<good1@x.test>\r\nRCPT TO:<bad\\\"addr>\r\nRCPT TO:<two words@x.test>\r\n"
      "RCPT TO:<unbalanced\"q@x.test>\r\nRCPT TO:<good2@x.test> NOTIFY=NEVER\r\nDATA\r\nhi\r\n.\r\n");
  EXPECT_NE(out.find("\r\n501 5.1.7 bad sender address <foo bar>: white space outside a quoted string\r\n"
                     "501 5.1.7 bad sender address <Subject: foo>: ':' outside a quoted string\r\n"
                     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                     "501 5.1.3 bad recipient address <bad\\\"addr>: a backslash outside a quoted string\r\n"
                     "501 5.1.3 bad recipient address <two words@x.test>: white space outside a quoted string\r\n"
                     "501 5.1.3 bad recipient address <unbalanced\"q@x.test>: an unbalanced quote\r\n"
                     "250 2.1.5 Ok\r\n354 "),
            std::string::npos)
      << out;
  ASSERT_EQ(b_.begun.size(), 1u);
  EXPECT_EQ(b_.begun[0].sender, "a@x");
  EXPECT_EQ(b_.begun[0].recipients, (std::vector<std::string>{"good1@x.test", "good2@x.test"}));
  EXPECT_EQ(b_.begun[0].notifies, (std::vector<std::string>{"", "NEVER"}));
  EXPECT_EQ(b_.messages.size(), 1u);
}

// A source route with no mailbox is no null sender (Postfix: 501 5.1.7);
// a valid route is stripped; bad routes and address literals are refused
// at their command, naming the problem.
TEST_F(ServerTest, SourceRoutesAndAddressLiterals) {
  params_.max_recipients = 10;
  std::string out = Run(
      "EHLO c\r\nMAIL FROM:<@a:>\r\nMAIL FROM:<@a.example,@b.example:>\r\nMAIL FROM:<@:a@b>\r\n"
      "MAIL FROM:<x@[1.2.3]>\r\nMAIL FROM:<@a.example,@b.example:s@y.example>\r\n"
      "RCPT TO:<@a:>\r\nRCPT TO:<@@a:x@y>\r\nRCPT TO:<x@[300.1.1.1]>\r\nRCPT TO:<x@[IPv6:zz]>\r\n"
      "RCPT TO:<@r.example:x@y.example>\r\nRCPT TO:<x@[192.0.2.1]>\r\nRCPT TO:<x@[IPv6:2001:db8::1]>\r\n"
      "DATA\r\nhi\r\n.\r\n");
  EXPECT_NE(out.find("\r\n501 5.1.7 bad sender address <@a:>: a source route with no mailbox\r\n"
                     "501 5.1.7 bad sender address <@a.example,@b.example:>: a source route with no mailbox\r\n"
                     "501 5.1.7 bad sender address <@:a@b>: an empty domain in the source route\r\n"
                     "501 5.1.7 bad sender address <x@[1.2.3]>: a bad address literal \"[1.2.3]\" (not an IPv4 or IPv6 address)\r\n"
                     "250 2.1.0 Ok\r\n"
                     "501 5.1.3 bad recipient address <@a:>: a source route with no mailbox\r\n"
                     "501 5.1.3 bad recipient address <@@a:x@y>: a bad domain \"@a\" in the source route\r\n"
                     "501 5.1.3 bad recipient address <x@[300.1.1.1]>: a bad address literal \"[300.1.1.1]\" (not an IPv4 or IPv6 address)\r\n"
                     "501 5.1.3 bad recipient address <x@[IPv6:zz]>: a bad address literal \"[IPv6:zz]\" (not an IPv4 or IPv6 address)\r\n"
                     "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 "),
            std::string::npos)
      << out;
  ASSERT_EQ(b_.begun.size(), 1u);
  EXPECT_EQ(b_.begun[0].sender, "s@y.example");
  EXPECT_EQ(b_.begun[0].recipients,
            (std::vector<std::string>{"x@y.example", "x@[192.0.2.1]", "x@[IPv6:2001:db8::1]"}));
}

// NOTIFY and ORCPT belong to their RCPT (RFC 3461 4.1, 4.2).
TEST_F(ServerTest, NotifyIsKeptPerRecipient) {
  Run("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\n"
      "RCPT TO:<c@y> NOTIFY=success,failure ORCPT=rfc822;o@y\r\nRCPT TO:<d@y>\r\nDATA\r\nhi\r\n.\r\n");
  ASSERT_EQ(b_.begun.size(), 1u);
  EXPECT_EQ(b_.begun[0].notifies, (std::vector<std::string>{"NEVER", "SUCCESS,FAILURE", ""}));
  EXPECT_EQ(b_.begun[0].orcpts, (std::vector<std::string>{"", "o@y", ""}));
}

TEST(ValidHeloArgument, DomainsAndAddressLiteralsOnly) {
  for (const char* good : {"c", "mail.example.com", "MX-1.Example.COM", "a.b.c.d.e", "[127.0.0.1]", "[192.0.2.1]",
                           "[IPv6:::1]", "[IPv6:2001:db8::1]", "[ipv6:fe80::1]", "[x-tag:some.text]", "123.example"})
    EXPECT_TRUE(ValidHeloArgument(good)) << good;
  for (const char* bad : {"", "trusted.example.com (localhost [127.0.0.1] uid 0)", "a (b)", "(x)", "a.b.",
                          ".a", "a..b", "-a.b", "a-.b", "a_b.example", "a b", "[127.0.0.1] (x)", "[300.1.1.1]",
                          "[IPv6:zz::1]", "[127.0.0.1", "127.0.0.1]", "[x-tag:a(b)]", "[tag:]", "[:x]",
                          "host\x01.example", "caf\xc3\xa9.example", "a.b;c", "[IPv6:::1]x"})
    EXPECT_FALSE(ValidHeloArgument(bad)) << bad;
  EXPECT_FALSE(ValidHeloArgument(std::string(64, 'a') + ".example"));
  EXPECT_TRUE(ValidHeloArgument(std::string(63, 'a') + ".example"));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_FALSE(ValidHeloArgument(long_name + "x")) << "over 255 octets";
  EXPECT_FALSE(ValidHeloArgument("[x-tag:" + std::string(300, 'a') + "]")) << "a literal over 255 octets";
}

// A forged trace in EHLO is left out of the message (helo ""), kept only
// for the log; a valid name goes on as it is.
TEST_F(ServerTest, ForgedHeloIsLeftOut) {
  for (const char* forged : {"trusted.example.com (localhost [127.0.0.1] uid 0)", "x (evil)", "[1.2.3.4] by me"}) {
    FakeBackend b;
    SmtpServer s(params_, &b);
    s.Feed(std::string("EHLO ") + forged + "\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
    ASSERT_EQ(b.begun.size(), 1u);
    EXPECT_EQ(b.begun[0].helo, "") << forged;
    EXPECT_EQ(s.ignored_helo(), forged);
  }
  FakeBackend b;
  SmtpServer s(params_, &b);
  s.Feed("HELO mail.example.com\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
  ASSERT_EQ(b.begun.size(), 1u);
  EXPECT_EQ(b.begun[0].helo, "mail.example.com");
  EXPECT_EQ(s.ignored_helo(), "");
}

TEST_F(ServerTest, ReplyTable) {
  struct Case {
    const char* in;
    const char* want_last;  // the last reply line
  };
  const Case cases[] = {
      {"MAIL FROM:<a@x>\r\n", "503 5.5.1 send HELO/EHLO first\r\n"},
      {"HELO c\r\nRCPT TO:<b@y>\r\n", "503 5.5.1 need MAIL command\r\n"},
      {"HELO c\r\nDATA\r\n", "503 5.5.1 need MAIL command\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nDATA\r\n", "554 5.5.1 no valid recipients\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nMAIL FROM:<a@x>\r\n", "503 5.5.1 nested MAIL command\r\n"},
      {"HELO c\r\nMAIL FROM a@x\r\n", "501 5.5.4 syntax: MAIL FROM:<address>\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x> SIZE=5000\r\n", "552 5.3.4 message size exceeds the limit\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x> FOO=1\r\n", "555 5.5.4 unsupported parameter FOO\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<>\r\n", "553 5.1.3 bad recipient address: <> is no recipient\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<1@y>\r\nRCPT TO:<2@y>\r\nRCPT TO:<3@y>\r\nRCPT TO:<4@y>\r\n",
       "452 4.5.3 too many recipients\r\n"},
      {"HELO c\r\nVRFY root\r\n", "252 2.0.0 Cannot VRFY, but will accept and attempt delivery\r\n"},
      {"HELO c\r\nFOO\r\n", "502 5.5.2 command not recognized\r\n"},
      {"EHLO\r\n", "501 5.5.4 EHLO needs a host name\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x> ENVID=a+0Ab\r\n", "501 5.5.4 bad ENVID parameter\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y> NOTIFY=SOMETIMES\r\n", "501 5.5.4 bad NOTIFY parameter\r\n"},
      {"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y> NOTIFY=NEVER,SUCCESS\r\n", "501 5.5.4 bad NOTIFY parameter\r\n"},
      {"HELO c\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n",
       "421 4.7.0 mx.test too many commands without mail; closing\r\n"},
  };
  for (const Case& c : cases) {
    b_ = FakeBackend();
    std::string out = Run(c.in);
    std::string last = out.substr(out.rfind("\r\n", out.size() - 3) + 2);
    EXPECT_EQ(last, c.want_last) << c.in;
  }
}

TEST_F(ServerTest, OversizeDataIsRefusedAfterTheDot) {
  std::string out = Run("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" + std::string(1500, 'x') +
                        "\r\n.\r\nNOOP\r\n");
  EXPECT_NE(out.find("552 5.3.4 message size exceeds the limit\r\n250 2.0.0 Ok\r\n"), std::string::npos) << out;
  EXPECT_TRUE(b_.messages.empty());
  EXPECT_GE(b_.aborts, 1);
}

TEST_F(ServerTest, StoreFailureIs451AndKeepsNothing) {
  b_.end_status = Status::TempFail("disk full");
  std::string out = Run("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
  EXPECT_NE(out.find("451 4.3.0 disk full\r\n"), std::string::npos);
  EXPECT_TRUE(b_.messages.empty());
}

TEST_F(ServerTest, LongCommandLineRefused) {
  std::string out = Run("HELO c\r\n" + std::string(5000, 'A'));
  EXPECT_NE(out.find("500 5.5.0 line too long"), std::string::npos);
}

// The rest of an over-long line, arriving in a later read, is dropped to
// its end, never run as a command; a complete over-long line is refused
// too.
TEST_F(ServerTest, TailOfALongLineIsNotACommand) {
  SmtpServer s(params_, &b_);
  EXPECT_EQ(s.Feed(std::string(3000, 'A')), "500 5.5.0 line too long\r\n");
  EXPECT_EQ(s.Feed("AAAA QUIT\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_FALSE(s.closed());
  EXPECT_EQ(s.Feed("NOOP " + std::string(3000, 'A') + "\r\nNOOP\r\n"),
            "500 5.5.0 line too long\r\n250 2.0.0 Ok\r\n");
}

// As Postfix's smtpd_hard_error_limit: a client that only earns errors is
// let go.
TEST_F(ServerTest, TooManyErrorsEndTheSession) {
  params_.max_junk_commands = 1000;
  SmtpServer s(params_, &b_);
  std::string in = "HELO c\r\n";
  for (int i = 0; i < 25; ++i) in += "RCPT TO:<b@y>\r\n";
  std::string out = s.Feed(in);
  EXPECT_TRUE(s.closed());
  EXPECT_NE(out.find("421 4.7.0 mx.test too many errors; closing\r\n"), std::string::npos) << out;
  size_t n = 0;
  for (size_t p = out.find("503 "); p != std::string::npos; p = out.find("503 ", p + 1)) ++n;
  EXPECT_EQ(n, 20u);
}

// RFC 2920 3.1: DATA ends a pipelined group; the client must wait for its
// reply. Bytes already received behind a refused DATA were meant as the
// message: they are never run as commands (no transaction smuggled in a
// message body); the session ends with a 421 naming the reason.
TEST_F(ServerTest, InputBehindARefusedDataIsNeverACommand) {
  const std::string smuggled =
      "Subject: form\r\n\r\nRSET\r\nMAIL FROM:<ceo@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\n"
      "Subject: wire\r\n\r\nsmuggled\r\n.\r\n.\r\nQUIT\r\n";
  const struct {
    const char* name;
    const char* head;  // up to the refused DATA
    const char* refusal;
    Status begin;
  } cases[] = {
      {"no valid recipient", "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<two words@y>\r\nDATA\r\n",
       "554 5.5.1 no valid recipients\r\n", Status::Ok()},
      {"no MAIL", "EHLO c\r\nDATA\r\n", "503 5.5.1 need MAIL command\r\n", Status::Ok()},
      {"an argument", "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA now\r\n",
       "501 5.5.4 DATA takes no argument\r\n", Status::Ok()},
      {"backend refuses", "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
       "451 4.3.0 spool full\r\n", Status::TempFail("spool full")},
  };
  const std::string closing = "421 4.5.0 mx.test improper pipelining after a refused DATA; closing\r\n";
  for (const auto& c : cases) {
    // Whatever part of the message came in the same read as the DATA.
    for (size_t behind : {size_t{1}, size_t{2}, size_t{15}, smuggled.size()}) {
      SCOPED_TRACE(std::string(c.name) + ", bytes behind: " + std::to_string(behind));
      FakeBackend b;
      b.begin_status = c.begin;
      SmtpServer s(params_, &b);
      std::string out = s.Feed(std::string(c.head) + smuggled.substr(0, behind));
      EXPECT_TRUE(out.ends_with(std::string(c.refusal) + closing)) << out;
      EXPECT_TRUE(s.closed());
      out += s.Feed(smuggled.substr(behind));
      EXPECT_EQ(Count(out, "250 2.1.0"), std::string(c.head).find("MAIL") == std::string::npos ? 0u : 1u) << out;
      EXPECT_EQ(Count(out, "queued as"), 0u) << out;
      EXPECT_TRUE(b.messages.empty());
      EXPECT_LE(b.begun.size(), 1u);
      for (const MailTransaction& t : b.begun) EXPECT_EQ(t.sender, "a@x");
    }
  }
}

// A client that waits for the reply to DATA, as RFC 2920 says, is
// unaffected; and a refused DATA ends the transaction as RSET would, so
// its next MAIL begins a new one (no "503 nested MAIL").
TEST_F(ServerTest, RefusedDataResetsTheTransaction) {
  for (const char* head : {"MAIL FROM:<a@x>\r\nRCPT TO:<two words@y>\r\nDATA\r\n",
                           "MAIL FROM:<a@x>\r\nDATA\r\n", "DATA\r\n",
                           "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA x\r\n"}) {
    SCOPED_TRACE(head);
    FakeBackend b;
    SmtpServer s(params_, &b);
    s.Feed("EHLO c\r\n");
    std::string out = s.Feed(head);
    EXPECT_FALSE(s.closed()) << out;
    size_t last = out.rfind("\r\n", out.size() - 3);
    EXPECT_EQ(out[last == std::string::npos ? 0 : last + 2], '5') << out;
    // Refused at DATA: nothing of the transaction is left for the data.
    EXPECT_TRUE(s.Feed("RCPT TO:<c@y>\r\n").starts_with("503 5.5.1 need MAIL command"));
    out = s.Feed("MAIL FROM:<d@x>\r\nRCPT TO:<e@y>\r\nDATA\r\n");
    EXPECT_EQ(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
    out = s.Feed("hi\r\n.\r\nQUIT\r\n");
    EXPECT_EQ(out, "250 2.0.0 Ok: queued as ID1\r\n221 2.0.0 Bye\r\n");
    ASSERT_EQ(b.begun.size(), 1u);
    EXPECT_EQ(b.begun[0].sender, "d@x");
    EXPECT_EQ(b.begun[0].recipients, (std::vector<std::string>{"e@y"}));
  }
  // A backend that refused Begin: the client may start again too.
  FakeBackend b;
  b.begin_status = Status::TempFail("spool full");
  SmtpServer s(params_, &b);
  EXPECT_TRUE(s.Feed("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n").ends_with("451 4.3.0 spool full\r\n"));
  EXPECT_FALSE(s.closed());
  EXPECT_EQ(s.Feed("MAIL FROM:<a@x>\r\n"), "250 2.1.0 Ok\r\n");
}

// A line over 64 KiB is passed on in pieces; a piece never ends with a
// CR whose LF has not come yet, or the real end behind that line would
// be missed. The segment boundary falls at every offset around the CR.
TEST_F(ServerTest, EndOfDataAfterALongLineSplitAtItsCr) {
  const std::string head = "EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: big\r\n\r\n";
  const std::string line(70000, 'A');
  const std::string in = head + line + "\r\n.\r\nQUIT\r\n";
  params_.size_limit = 0;
  size_t cr = head.size() + line.size();  // the offset of the line's CR
  for (size_t split = cr - 3; split <= cr + 5; ++split) {
    SCOPED_TRACE("split at " + std::to_string(split) + ", CR at " + std::to_string(cr));
    FakeBackend b;
    SmtpServer s(params_, &b);
    std::string out = s.Feed(std::string_view(in).substr(0, split));
    out += s.Feed(std::string_view(in).substr(split));
    EXPECT_EQ(Count(out, "queued as"), 1u) << out.substr(out.size() > 300 ? out.size() - 300 : 0);
    EXPECT_TRUE(s.closed());
    ASSERT_EQ(b.messages.size(), 1u);
    EXPECT_EQ(b.messages[0], "Subject: big\r\n\r\n" + line + "\r\n");
  }
  // Also with a dot-stuffed line behind it, and with a bare CR at the cut.
  for (const std::string& tail : {std::string("\r\n..x\r\n.\r\n"), std::string("\r") + "B\r\n.\r\n"}) {
    FakeBackend b;
    SmtpServer s(params_, &b);
    std::string out = s.Feed(head + line + tail.substr(0, 1));
    out += s.Feed(tail.substr(1));
    EXPECT_EQ(Count(out, "queued as"), 1u);
    ASSERT_EQ(b.messages.size(), 1u);
    EXPECT_EQ(b.messages[0], "Subject: big\r\n\r\n" + line + (tail[1] == '\n' ? "\r\n.x\r\n" : "\rB\r\n"));
  }
}

// The injector qualifies an unqualified address (and a recipient at a
// local name such as localhost) with the mail domain; one that is too long
// only then is refused at its command, so the other recipients keep the
// message rather than the whole of it failing at the dot.
TEST_F(ServerTest, AddressTooLongOnceQualifiedIsRefusedAtItsCommand) {
  params_.max_recipients = 20;
  params_.max_errors = 20;
  params_.local = LocalPolicy{"example.com", {"localhost", "host.test"}};  // "@example.com": 12 octets
  const std::string fits(308, 'u'), over(309, 'u');
  const std::string in = "EHLO c\r\nMAIL FROM:<" + over + ">\r\nMAIL FROM:<" + fits + ">\r\n" +
                         "RCPT TO:<good@x.test>\r\n" + "RCPT TO:<" + over + ">\r\n" +
                         "RCPT TO:<" + std::string(320, 'v') + ">\r\n" + "RCPT TO:<\"" + std::string(307, 'q') +
                         "\">\r\n" + "RCPT TO:<" + std::string(310, 'w') + "@localhost>\r\n" +
                         "RCPT TO:<" + std::string(310, 'w') + "@HOST.test>\r\n" + "RCPT TO:<" + fits + ">\r\n" +
                         "RCPT TO:<" + std::string(300, 'l') + "@localhost>\r\n" + "RCPT TO:<" +
                         std::string(308, 'r') + "@remote.test>\r\n" + "DATA\r\nhi\r\n.\r\n";
  std::string out = Run(in);
  const std::string reason = ": address longer than 320 characters once qualified as ...@example.com\r\n";
  auto bad = [&](const char* reply, const std::string& addr) {
    return std::string(reply) + " <" + addr.substr(0, 100) + ">" + reason;
  };
  EXPECT_NE(out.find("\r\n" + bad("501 5.1.7 bad sender address", over) + "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" +
                     bad("501 5.1.3 bad recipient address", over) +
                     bad("501 5.1.3 bad recipient address", std::string(320, 'v')) +
                     bad("501 5.1.3 bad recipient address", "\"" + std::string(307, 'q') + "\"") +
                     bad("501 5.1.3 bad recipient address", std::string(310, 'w') + "@localhost") +
                     bad("501 5.1.3 bad recipient address", std::string(310, 'w') + "@HOST.test") +
                     "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 "),
            std::string::npos)
      << out;
  ASSERT_EQ(b_.begun.size(), 1u);
  EXPECT_EQ(b_.begun[0].sender, fits);
  EXPECT_EQ(b_.begun[0].recipients,
            (std::vector<std::string>{"good@x.test", fits, std::string(300, 'l') + "@localhost",
                                      std::string(308, 'r') + "@remote.test"}));
  EXPECT_EQ(Count(out, "queued as"), 1u);
  // A sender at a local name is not qualified again (as the injector does).
  b_ = FakeBackend();
  out = Run("EHLO c\r\nMAIL FROM:<" + std::string(310, 's') + "@localhost>\r\n");
  EXPECT_TRUE(out.ends_with("250 2.1.0 Ok\r\n")) << out;
}

// relay-smtpd's policy for clients beyond loopback: TLS, then AUTH (or a
// client certificate), before MAIL.
class FakeAuth : public ServerAuthenticator {
 public:
  bool Check(const std::string& user, const std::string& password) override {
    tried.push_back(user + ":" + password);
    // As crypt(3) sees it: a C string, which ends at the first NUL.
    return user == "alice" && std::strcmp(password.c_str(), "s3cret") == 0;
  }
  std::vector<std::string> tried;
};

class RemoteServerTest : public ::testing::Test {
 protected:
  RemoteServerTest() {
    params_.hostname = "mx.test";
    params_.offer_starttls = true;
    params_.require_auth = true;
  }
  ServerParams params_;
  FakeBackend b_;
  FakeAuth auth_;
};

std::string B64(std::string_view s) { return Base64Encode(s); }

TEST_F(RemoteServerTest, PlaintextOffersOnlyStartTls) {
  SmtpServer s(params_, &b_, &auth_);
  std::string out = s.Feed("EHLO c\r\n");
  EXPECT_NE(out.find("250-STARTTLS\r\n"), std::string::npos);
  EXPECT_EQ(out.find("AUTH"), std::string::npos);
  EXPECT_EQ(s.Feed("MAIL FROM:<a@x>\r\n"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(s.Feed("AUTH PLAIN " + B64(std::string("\0alice\0s3cret", 13)) + "\r\n"),
            "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  EXPECT_TRUE(auth_.tried.empty());  // no password checked in the clear
}

// CVE-2011-0411 and its kind: a command pipelined behind STARTTLS was sent
// in the clear and must not be executed as if it came under TLS.
TEST_F(RemoteServerTest, BytesPipelinedAfterStartTlsAreDropped) {
  SmtpServer s(params_, &b_, &auth_);
  s.Feed("EHLO c\r\n");
  std::string out = s.Feed("STARTTLS\r\nEHLO evil\r\nAUTH PLAIN " +
                           B64(std::string("\0alice\0s3cret", 13)) + "\r\n");
  EXPECT_EQ(out, "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_TRUE(s.tls_requested());
  s.TlsStarted("");
  EXPECT_FALSE(s.tls_requested());
  EXPECT_TRUE(auth_.tried.empty());
  // The EHLO before TLS is forgotten too.
  EXPECT_EQ(s.Feed("MAIL FROM:<a@x>\r\n"), "503 5.5.1 send HELO/EHLO first\r\n");
  out = s.Feed("EHLO c\r\n");
  EXPECT_EQ(out.find("STARTTLS"), std::string::npos);
  EXPECT_NE(out.find("250-AUTH PLAIN LOGIN\r\n"), std::string::npos);
  EXPECT_EQ(s.Feed("STARTTLS\r\n"), "554 5.5.1 TLS already active\r\n");
}

TEST_F(RemoteServerTest, AuthPlainThenMail) {
  SmtpServer s(params_, &b_, &auth_);
  s.Feed("EHLO c\r\nSTARTTLS\r\n");
  s.TlsStarted("");
  s.Feed("EHLO c\r\n");
  EXPECT_EQ(s.Feed("MAIL FROM:<a@x>\r\n"), "530 5.7.0 Authentication required\r\n");
  EXPECT_EQ(s.Feed("AUTH PLAIN " + B64(std::string("\0alice\0s3cret", 13)) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(s.auth_user(), "alice");
  EXPECT_EQ(s.Feed("AUTH PLAIN =\r\n"), "503 5.5.1 already authenticated\r\n");
  std::string out = s.Feed("MAIL FROM:<a@x> AUTH=<>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\n");
  EXPECT_NE(out.find("250 2.0.0 Ok: queued as ID1"), std::string::npos) << out;
  ASSERT_EQ(b_.begun.size(), 1u);
  EXPECT_EQ(b_.begun[0].auth_user, "alice");
  EXPECT_TRUE(b_.begun[0].tls);
}

TEST_F(RemoteServerTest, AuthDialogues) {
  struct Case {
    std::string in;
    std::string want;  // all replies after the EHLO
    std::string user;  // auth_user() after
  };
  const std::string ok_plain = B64(std::string("\0alice\0s3cret", 13));
  const Case cases[] = {
      {"AUTH LOGIN\r\n" + B64("alice") + "\r\n" + B64("s3cret") + "\r\n",
       "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n", "alice"},
      {"AUTH login " + B64("alice") + "\r\n" + B64("s3cret") + "\r\n",
       "334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n", "alice"},
      {"AUTH PLAIN\r\n" + ok_plain + "\r\n", "334 \r\n235 2.7.0 Authentication successful\r\n", "alice"},
      {"AUTH PLAIN\r\n*\r\n", "334 \r\n501 5.7.0 authentication aborted\r\n", ""},
      {"AUTH PLAIN !!!!\r\n", "501 5.5.2 cannot decode the response\r\n", ""},
      {"AUTH CRAM-MD5\r\n", "504 5.5.4 unrecognized authentication type\r\n", ""},
      {"AUTH PLAIN " + B64(std::string("\0alice\0wrong", 12)) + "\r\n",
       "535 5.7.8 authentication credentials invalid\r\n", ""},
      // Acting for another user is not offered.
      {"AUTH PLAIN " + B64(std::string("bob\0alice\0s3cret", 16)) + "\r\n",
       "535 5.7.8 authentication credentials invalid\r\n", ""},
      {"AUTH PLAIN " + B64("alice") + "\r\n", "535 5.7.8 authentication credentials invalid\r\n", ""},
      // crypt(3) would stop at the NUL: "s3cret\0x" must not pass as "s3cret".
      {"AUTH LOGIN " + B64("alice") + "\r\n" + B64(std::string("s3cret\0x", 8)) + "\r\n",
       "334 UGFzc3dvcmQ6\r\n535 5.7.8 authentication credentials invalid\r\n", ""},
      {"MAIL FROM:<a@x>\r\nAUTH PLAIN " + ok_plain + "\r\n",
       "530 5.7.0 Authentication required\r\n235 2.7.0 Authentication successful\r\n", "alice"},
  };
  for (const Case& c : cases) {
    SmtpServer s(params_, &b_, &auth_);
    s.Feed("STARTTLS\r\n");
    s.TlsStarted("");
    s.Feed("EHLO c\r\n");
    EXPECT_EQ(s.Feed(c.in), c.want) << c.in;
    EXPECT_EQ(s.auth_user(), c.user) << c.in;
  }
}

TEST_F(RemoteServerTest, TooManyAuthFailuresEndTheSession) {
  SmtpServer s(params_, &b_, &auth_);
  s.Feed("STARTTLS\r\n");
  s.TlsStarted("");
  s.Feed("EHLO c\r\n");
  std::string bad = "AUTH PLAIN " + B64(std::string("\0alice\0guess", 12)) + "\r\n";
  std::string out = s.Feed(bad + bad + bad + bad);
  EXPECT_EQ(out,
            "535 5.7.8 authentication credentials invalid\r\n535 5.7.8 authentication credentials invalid\r\n"
            "535 5.7.8 authentication credentials invalid\r\n"
            "421 4.7.0 mx.test too many authentication failures; closing\r\n");
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(auth_.tried.size(), 3u);
  EXPECT_EQ(s.last_auth_failure(), "alice");
}

TEST_F(RemoteServerTest, ClientCertificateAuthenticates) {
  SmtpServer s(params_, &b_, &auth_);
  s.Feed("STARTTLS\r\n");
  s.TlsStarted("client1.test");
  std::string out = s.Feed("EHLO c\r\nMAIL FROM:<a@x>\r\n");
  EXPECT_NE(out.find("250 2.1.0 Ok"), std::string::npos) << out;
  EXPECT_EQ(s.auth_user(), "client1.test");
}

TEST_F(RemoteServerTest, LoopbackPolicyOffersNeither) {
  SmtpServer s(ServerParams{}, &b_);
  std::string out = s.Feed("EHLO c\r\nSTARTTLS\r\nAUTH PLAIN =\r\n");
  EXPECT_EQ(out.find("STARTTLS\r\n250"), std::string::npos);
  EXPECT_NE(out.find("502 5.5.2 command not recognized\r\n502 5.5.2 command not recognized\r\n"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace relay
