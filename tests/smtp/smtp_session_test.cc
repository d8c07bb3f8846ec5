// The SMTP client state machine against scripted server transcripts.
#include "relay/smtp/smtp_session.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

Reply R(const std::string& text) {
  ReplyParser p;
  p.Feed(text);
  Reply r;
  std::string err;
  EXPECT_EQ(p.Next(&r, &err), ReplyParser::Result::kReply) << text << err;
  return r;
}

const char kEhloFull[] =
    "250-mail.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250-DSN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n";
const char kEhloPlain[] = "250-mail.test\r\n250-SIZE 10000\r\n250 8BITMIME\r\n";

MessageJob Job(std::vector<std::string> rcpts) {
  MessageJob j;
  j.sender = "a@x.org";
  j.recipients = std::move(rcpts);
  j.size = 100;
  return j;
}

class SessionTest : public ::testing::Test {
 protected:
  // Runs the greeting and EHLO (and STARTTLS) steps to the ready state.
  void Open(const std::string& ehlo, bool require_tls = false) {
    s_ = std::make_unique<SmtpSession>(SessionParams{"client.test", require_tls, false});
    EXPECT_EQ(s_->want(), SmtpSession::Want::kReply);
    s_->OnReply(R("220 mail.test ESMTP\r\n"));
    EXPECT_EQ(s_->TakeOutput(), "EHLO client.test\r\n");
    s_->OnReply(R(ehlo));
    if (require_tls) {
      ASSERT_EQ(s_->TakeOutput(), "STARTTLS\r\n");
      s_->OnReply(R("220 2.0.0 go ahead\r\n"));
      ASSERT_EQ(s_->want(), SmtpSession::Want::kTlsHandshake);
      s_->OnTlsUp();
      ASSERT_EQ(s_->TakeOutput(), "EHLO client.test\r\n");
      s_->OnReply(R(ehlo));
    }
    ASSERT_EQ(s_->want(), SmtpSession::Want::kMessage);
  }
  std::unique_ptr<SmtpSession> s_;
};

TEST_F(SessionTest, PipelinedDeliveryWithStartTls) {
  Open(kEhloFull, true);
  MessageJob j = Job({"b@y.org", "c@z.org"});
  // NOTIFY and ORCPT are per recipient (RFC 3461 4.1, 4.2).
  j.notifies = {"SUCCESS,FAILURE", "NEVER"};
  j.dsn_ret = "HDRS";
  j.envid = "id+1";
  j.orcpts = {"root@x.org", ""};
  s_->SendMessage(j);
  EXPECT_EQ(s_->TakeOutput(),
            "MAIL FROM:<a@x.org> SIZE=100 RET=HDRS ENVID=id+2B1\r\n"
            "RCPT TO:<b@y.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;root@x.org\r\n"
            "RCPT TO:<c@z.org> NOTIFY=NEVER\r\nDATA\r\n");
  EXPECT_EQ(s_->stage(), Stage::kMail);
  s_->OnReply(R("250 2.1.0 ok\r\n"));
  s_->OnReply(R("250 2.1.5 ok\r\n"));
  s_->OnReply(R("550 5.1.1 <c@z.org>: no such user\r\n"));
  s_->OnReply(R("354 go\r\n"));
  ASSERT_EQ(s_->want(), SmtpSession::Want::kBody);
  s_->OnBodySent();
  EXPECT_EQ(s_->TakeOutput(), ".\r\n");
  EXPECT_EQ(s_->stage(), Stage::kDot);
  s_->OnReply(R("250 2.0.0 Ok: queued as 123\r\n"));
  ASSERT_TRUE(s_->HasOutcome());
  auto out = s_->TakeOutcome();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].state, RcptState::kDone);
  EXPECT_EQ(out[0].dsn, "2.0.0");
  EXPECT_EQ(out[1].state, RcptState::kBounced);
  EXPECT_EQ(out[1].dsn, "5.1.1");
  EXPECT_EQ(out[1].reason, "550 5.1.1 <c@z.org>: no such user");
  EXPECT_EQ(s_->want(), SmtpSession::Want::kMessage);
  // The connection is reused: a second message needs no new greeting.
  s_->SendMessage(Job({"d@y.org"}));
  EXPECT_EQ(s_->TakeOutput().substr(0, 19), "MAIL FROM:<a@x.org>");
}

TEST_F(SessionTest, UnpipelinedStepByStep) {
  Open(kEhloPlain);
  s_->SendMessage(Job({"b@y.org", "c@z.org"}));
  EXPECT_EQ(s_->TakeOutput(), "MAIL FROM:<a@x.org> SIZE=100\r\n");
  s_->OnReply(R("250 ok\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "RCPT TO:<b@y.org>\r\n");
  s_->OnReply(R("451 4.3.0 try later\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "RCPT TO:<c@z.org>\r\n");
  s_->OnReply(R("250 ok\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "DATA\r\n");
  s_->OnReply(R("354 go\r\n"));
  s_->OnBodySent();
  s_->TakeOutput();
  s_->OnReply(R("250 ok\r\n"));
  auto out = s_->TakeOutcome();
  EXPECT_EQ(out[0].state, RcptState::kDeferred);
  EXPECT_EQ(out[0].dsn, "4.3.0");
  EXPECT_EQ(out[1].state, RcptState::kDone);
  EXPECT_EQ(out[1].dsn, "2.0.0");
}

TEST_F(SessionTest, AllRecipientsRefusedMeansRsetNotData) {
  Open(kEhloPlain);
  s_->SendMessage(Job({"b@y.org"}));
  s_->TakeOutput();
  s_->OnReply(R("250 ok\r\n"));
  s_->TakeOutput();
  s_->OnReply(R("550 no\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "RSET\r\n");
  s_->OnReply(R("250 ok\r\n"));
  EXPECT_EQ(s_->TakeOutcome()[0].state, RcptState::kBounced);
  EXPECT_EQ(s_->want(), SmtpSession::Want::kMessage);
}

struct StageFailure {
  const char* name;
  std::vector<std::string> replies;  // after a pipelined send of 1 rcpt
  RcptState want;
};

TEST_F(SessionTest, EveryMessageStageFailing) {
  const StageFailure cases[] = {
      {"mail 4xx", {"451 later\r\n", "503 no\r\n", "503 no\r\n", "250 rset\r\n"}, RcptState::kDeferred},
      {"mail 5xx", {"553 bad sender\r\n", "503 no\r\n", "503 no\r\n", "250 rset\r\n"}, RcptState::kBounced},
      {"rcpt 4xx", {"250 ok\r\n", "450 later\r\n", "554 no valid rcpts\r\n", "250 rset\r\n"}, RcptState::kDeferred},
      {"rcpt 5xx", {"250 ok\r\n", "550 unknown\r\n", "554 no valid rcpts\r\n", "250 rset\r\n"}, RcptState::kBounced},
      {"data 4xx", {"250 ok\r\n", "250 ok\r\n", "451 later\r\n", "250 rset\r\n"}, RcptState::kDeferred},
      {"data 5xx", {"250 ok\r\n", "250 ok\r\n", "554 no\r\n", "250 rset\r\n"}, RcptState::kBounced},
      {"dot 4xx", {"250 ok\r\n", "250 ok\r\n", "354 go\r\n", "BODY", "452 full\r\n"}, RcptState::kDeferred},
      {"dot 5xx", {"250 ok\r\n", "250 ok\r\n", "354 go\r\n", "BODY", "552 too big\r\n"}, RcptState::kBounced},
  };
  for (const StageFailure& c : cases) {
    SCOPED_TRACE(c.name);
    Open(kEhloFull);
    s_->SendMessage(Job({"b@y.org"}));
    for (const std::string& r : c.replies) {
      if (r == "BODY") {
        ASSERT_EQ(s_->want(), SmtpSession::Want::kBody);
        s_->OnBodySent();
      } else {
        ASSERT_EQ(s_->want(), SmtpSession::Want::kReply);
        s_->OnReply(R(r));
      }
    }
    ASSERT_TRUE(s_->HasOutcome());
    EXPECT_EQ(s_->TakeOutcome()[0].state, c.want);
    EXPECT_EQ(s_->want(), SmtpSession::Want::kMessage);
    EXPECT_TRUE(s_->session_error().empty());
  }
}

TEST_F(SessionTest, SessionStageFailuresDeferNeverBounce) {
  struct Case {
    const char* name;
    std::vector<std::string> replies;
    bool require_tls;
  };
  const Case cases[] = {
      {"greeting 554", {"554 go away\r\n"}, false},
      {"greeting 421", {"421 busy\r\n"}, false},
      {"ehlo 421", {"220 hi\r\n", "421 bye\r\n"}, false},
      {"ehlo 5xx with tls", {"220 hi\r\n", "502 no ehlo\r\n"}, true},
      {"no starttls", {"220 hi\r\n", "250-x\r\n250 PIPELINING\r\n"}, true},
      {"starttls 454", {"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "454 TLS not available\r\n"}, true},
      {"starttls 5xx", {"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "554 no\r\n"}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SmtpSession s({"client.test", c.require_tls, false});
    for (const std::string& r : c.replies) s.OnReply(R(r));
    EXPECT_FALSE(s.session_error().empty());
    std::string out = s.TakeOutput();
    EXPECT_EQ(out.find("MAIL"), std::string::npos);
    EXPECT_EQ(out.find("AUTH"), std::string::npos);
    EXPECT_EQ(out.substr(out.size() - 6), "QUIT\r\n");
    EXPECT_EQ(s.want(), SmtpSession::Want::kReply);
    s.OnReply(R("221 bye\r\n"));
    EXPECT_EQ(s.want(), SmtpSession::Want::kClosed);
  }
}

TEST_F(SessionTest, HeloFallbackOnlyWithoutTls) {
  SmtpSession s({"client.test", false, false});
  s.OnReply(R("220 hi\r\n"));
  s.TakeOutput();
  s.OnReply(R("500 what\r\n"));
  EXPECT_EQ(s.TakeOutput(), "HELO client.test\r\n");
  s.OnReply(R("250 hello\r\n"));
  EXPECT_EQ(s.want(), SmtpSession::Want::kMessage);
  MessageJob j = Job({"b@y.org"});
  s.SendMessage(j);
  EXPECT_EQ(s.TakeOutput(), "MAIL FROM:<a@x.org>\r\n");  // no extensions after HELO
}

TEST_F(SessionTest, LimitsBounceBeforeMail) {
  Open(kEhloPlain);
  MessageJob big = Job({"b@y.org"});
  big.size = 20000;
  s_->SendMessage(big);
  EXPECT_EQ(s_->TakeOutput(), "");
  auto out = s_->TakeOutcome();
  EXPECT_EQ(out[0].state, RcptState::kBounced);
  EXPECT_EQ(out[0].dsn, "5.3.4");
  MessageJob utf8 = Job({"j\xc3\xb6rg@y.org"});
  s_->SendMessage(utf8);
  EXPECT_EQ(s_->TakeOutput(), "");
  EXPECT_EQ(s_->TakeOutcome()[0].dsn, "5.6.7");
  Open("250-x\r\n250 PIPELINING\r\n");
  MessageJob eight = Job({"b@y.org"});
  eight.eight_bit = true;
  s_->SendMessage(eight);
  EXPECT_EQ(s_->TakeOutput(), "");
  EXPECT_EQ(s_->TakeOutcome()[0].dsn, "5.6.3");
}

TEST_F(SessionTest, EightBitAndUtf8Parameters) {
  Open(kEhloFull);
  MessageJob j = Job({"j\xc3\xb6rg@y.org"});
  j.eight_bit = true;
  s_->SendMessage(j);
  EXPECT_EQ(s_->TakeOutput().substr(0, 60),
            std::string("MAIL FROM:<a@x.org> SIZE=100 BODY=8BITMIME SMTPUTF8\r\nRCPT TO"));
}

// Regression: after a 7-bit conversion SIZE= declared the size in the
// queue, smaller than what was sent, and a server enforcing SIZE refused.
TEST_F(SessionTest, SizeAfterDowngradeIsTheConvertedSize) {
  const char kEhlo7bit[] = "250-mail.test\r\n250-PIPELINING\r\n250 SIZE 10000\r\n";
  struct Case {
    uint64_t size, downgraded_size;
    const char* mail;  // the MAIL command, or "" when bounced before MAIL
  } cases[] = {
      {100, 130, "MAIL FROM:<a@x.org> SIZE=130\r\n"},
      {100, 0, "MAIL FROM:<a@x.org>\r\n"},  // not measured: SIZE= left out
      {9000, 10001, ""},                      // fits only before conversion
      {10001, 9000, "MAIL FROM:<a@x.org> SIZE=9000\r\n"},
  };
  for (const Case& c : cases) {
    Open(kEhlo7bit);
    MessageJob j = Job({"b@y.org"});
    j.eight_bit = true;
    j.can_downgrade = true;
    j.size = c.size;
    j.downgraded_size = c.downgraded_size;
    s_->SendMessage(j);
    std::string out = s_->TakeOutput();
    EXPECT_EQ(out.substr(0, out.find('\n') + 1), c.mail) << c.size << " " << c.downgraded_size;
    if (*c.mail == '\0') {
      auto o = s_->TakeOutcome();
      EXPECT_EQ(o[0].dsn, "5.3.4");
      EXPECT_NE(o[0].reason.find("10001 (converted to 7-bit)"), std::string::npos) << o[0].reason;
    }
  }
  // Without a conversion the size in the queue is the one sent.
  Open(kEhloFull);
  MessageJob j = Job({"b@y.org"});
  j.eight_bit = true;
  j.can_downgrade = true;
  j.downgraded_size = 130;
  s_->SendMessage(j);
  EXPECT_EQ(s_->TakeOutput().substr(0, 44), "MAIL FROM:<a@x.org> SIZE=100 BODY=8BITMIME\r\n");
}

TEST_F(SessionTest, ConnectionLostAfterDotIsPossibleDuplicate) {
  Open(kEhloFull);
  s_->SendMessage(Job({"b@y.org"}));
  s_->OnReply(R("250 ok\r\n"));
  s_->OnReply(R("250 ok\r\n"));
  s_->OnReply(R("354 go\r\n"));
  s_->OnBodySent();
  s_->OnConnectionLost("connection reset by peer");
  EXPECT_TRUE(s_->possible_duplicate());
  auto out = s_->TakeOutcome();
  EXPECT_EQ(out[0].state, RcptState::kDeferred);
  EXPECT_EQ(s_->want(), SmtpSession::Want::kClosed);
}

TEST_F(SessionTest, ConnectionLostMidEnvelopeDefersWithoutDuplicate) {
  Open(kEhloFull);
  s_->SendMessage(Job({"b@y.org", "c@y.org"}));
  s_->OnReply(R("250 ok\r\n"));
  s_->OnReply(R("250 ok\r\n"));
  s_->OnConnectionLost("timeout");
  EXPECT_FALSE(s_->possible_duplicate());
  for (const RcptOutcome& o : s_->TakeOutcome()) EXPECT_EQ(o.state, RcptState::kDeferred);
}

TEST_F(SessionTest, DataAcceptedWithNoRecipientsSendsLoneDot) {
  Open(kEhloFull);
  s_->SendMessage(Job({"b@y.org"}));
  s_->TakeOutput();
  s_->OnReply(R("250 ok\r\n"));
  s_->OnReply(R("550 no\r\n"));
  s_->OnReply(R("354 go\r\n"));
  EXPECT_EQ(s_->TakeOutput(), ".\r\n");
  s_->OnReply(R("554 no valid recipients\r\n"));
  EXPECT_EQ(s_->TakeOutcome()[0].state, RcptState::kBounced);
}

// The desync of issue 20: a smuggled transaction made the server send
// replies no command asked for. The extra reply after the final dot ends
// the session, and the message whose dot reply was just taken is deferred
// (it may not have been its own), never marked sent.
TEST_F(SessionTest, ReplyAfterTheDotWithNothingDueDefers) {
  Open(kEhloFull);
  s_->SendMessage(Job({"b@y.org"}));
  s_->TakeOutput();
  s_->OnReply(R("250 2.1.0 ok\r\n"));
  s_->OnReply(R("250 2.1.5 ok\r\n"));
  s_->OnReply(R("354 go\r\n"));
  s_->OnBodySent();
  EXPECT_EQ(s_->TakeOutput(), ".\r\n");
  s_->OnReply(R("250 2.0.0 queued\r\n"));
  ASSERT_EQ(s_->want(), SmtpSession::Want::kMessage);
  s_->OnReply(R("250 2.1.0 stale\r\n"));  // a reply to no command
  EXPECT_EQ(s_->TakeOutput(), "QUIT\r\n");
  EXPECT_NE(s_->session_error().find("protocol error: a reply with no command outstanding"), std::string::npos);
  ASSERT_TRUE(s_->HasOutcome());
  auto out = s_->TakeOutcome();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state, RcptState::kDeferred);
  EXPECT_EQ(out[0].dsn, "4.5.0");
  EXPECT_TRUE(s_->possible_duplicate());
  s_->OnReply(R("221 bye\r\n"));
  EXPECT_EQ(s_->want(), SmtpSession::Want::kClosed);
}

// Replies are counted against every line sent, in every state: one more
// than was sent is a protocol error at once, wherever it comes.
TEST_F(SessionTest, EveryReplyBeyondTheLinesSentIsAProtocolError) {
  // Between messages, after the outcome was taken: nothing to revise.
  Open(kEhloFull);
  s_->OnReply(R("250 2.0.0 surplus\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "QUIT\r\n");
  EXPECT_FALSE(s_->HasOutcome());
  EXPECT_NE(s_->session_error().find("no command outstanding"), std::string::npos);
  // After QUIT's reply: closed, whatever follows.
  s_->OnReply(R("221 bye\r\n"));
  s_->OnReply(R("250 more\r\n"));
  EXPECT_EQ(s_->want(), SmtpSession::Want::kClosed);
  // A second greeting line before EHLO was answered: the EHLO reply is
  // the one due, a third reply is not.
  s_ = std::make_unique<SmtpSession>(SessionParams{"client.test", false, false});
  s_->OnReply(R("220 mail.test ESMTP\r\n"));
  s_->TakeOutput();
  s_->OnReply(R(kEhloPlain));
  ASSERT_EQ(s_->want(), SmtpSession::Want::kMessage);
  s_->OnReply(R("220 again\r\n"));
  EXPECT_EQ(s_->TakeOutput(), "QUIT\r\n");
  // A sent message whose outcome the caller took already is not changed.
  Open(kEhloFull);
  s_->SendMessage(Job({"b@y.org"}));
  s_->TakeOutput();
  for (const char* r : {"250 ok\r\n", "250 ok\r\n", "354 go\r\n"}) s_->OnReply(R(r));
  s_->OnBodySent();
  s_->OnReply(R("250 2.0.0 queued\r\n"));
  auto out = s_->TakeOutcome();
  EXPECT_EQ(out[0].state, RcptState::kDone);
  s_->OnReply(R("421 4.3.0 closing\r\n"));
  EXPECT_FALSE(s_->HasOutcome());
  EXPECT_FALSE(s_->possible_duplicate());
}

TEST(XText, Encodes) {
  EXPECT_EQ(XText("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(XText("plain@x"), "plain@x");
}

}  // namespace
}  // namespace relay
