// Quota and slow-down replies (quota_reply.h): pure, every listed variant.
#include "relay/deliver/quota_reply.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

constexpr int64_t kSec = 1000000;

TEST(QuotaReply, BuiltinListClassifiesEveryVariant) {
  struct Case {
    const char* reply;
    QuotaKind want;
  } cases[] = {
      {"421 4.7.0 Too many messages, try again later", QuotaKind::kRate},
      {"451 4.7.0 Too many connections from your host", QuotaKind::kRate},
      {"454 4.7.0 Too many login attempts, please try again later", QuotaKind::kRate},
      {"421 4.7.0 TOO MANY", QuotaKind::kRate},
      {"MAIL FROM: 451 4.7.0 too many messages", QuotaKind::kRate},  // as the session words it
      {"421 4.7.0 Sending rate limit exceeded", QuotaKind::kRate},
      {"421 4.4.2 Message submission rate for this client has exceeded the configured limit", QuotaKind::kRate},
      {"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", QuotaKind::kRate},
      {"550 5.4.5 Daily user sending quota exceeded. a1-20020a17 - gsmtp", QuotaKind::kDaily},
      {"550 5.4.5 Daily SMTP relay limit exceeded for user", QuotaKind::kDaily},
      {"550 5.7.1 Daily SMTP relay limit exceeded for customer", QuotaKind::kDaily},
      {"554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message",
       QuotaKind::kDaily},
      {"MAIL FROM: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", QuotaKind::kDaily},
      {"550 5.5.0 RecipientRateLimitExceeded", QuotaKind::kDaily},
      {"452 4.4.5 Daily sending quota reached", QuotaKind::kDaily},
      {"421 4.7.0 Too many / 4.7.0 messages", QuotaKind::kRate},  // a multi-line reply as logged
      // Not quota:
      {"452 4.5.3 Too many recipients", QuotaKind::kNone},   // per message, another DSN
      {"550 5.1.1 No such user", QuotaKind::kNone},
      {"421 4.7.0 Try again later, closing connection", QuotaKind::kNone},
      {"550 5.7.60 SMTP; Client does not have permissions to send as this sender", QuotaKind::kNone},
      {"250 2.0.0 Ok: too many", QuotaKind::kNone},            // a success is never a quota
      {"Too many messages", QuotaKind::kNone},                  // no reply code
      {"", QuotaKind::kNone},
      {"connection lost: 421", QuotaKind::kNone},
  };
  for (const Case& c : cases) EXPECT_EQ(ClassifyQuotaReply(BuiltinQuotaPatterns(), c.reply), c.want) << c.reply;
}

TEST(QuotaReply, FilePatterns) {
  std::vector<QuotaPattern> p;
  ASSERT_TRUE(ParseQuotaPatterns("# mine\n\nrate 450 - Slow Down\ndaily 5x1 5.7.1 monthly limit\ndaily 554 -\n", &p)
                  .ok());
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(ClassifyQuotaReply(p, "450 please slow down"), QuotaKind::kRate);
  EXPECT_EQ(ClassifyQuotaReply(p, "450 4.2.0 SLOW DOWN now"), QuotaKind::kRate);
  EXPECT_EQ(ClassifyQuotaReply(p, "451 slow down"), QuotaKind::kNone);
  EXPECT_EQ(ClassifyQuotaReply(p, "551 5.7.1 Monthly limit reached"), QuotaKind::kDaily);
  EXPECT_EQ(ClassifyQuotaReply(p, "551 5.7.2 Monthly limit reached"), QuotaKind::kNone);
  EXPECT_EQ(ClassifyQuotaReply(p, "554 anything"), QuotaKind::kDaily);
  struct Bad {
    const char* text;
    const char* error;
  } errors[] = {
      {"hourly 421 - x\n", "line 1: 'hourly' is not rate or daily"},
      {"\nrate 250 - x\n", "line 2: '250' is not a 4xx or 5xx"},
      {"rate 42 - x\n", "'42' is not"},
      {"rate 4y1 - x\n", "'4y1' is not"},
      {"rate 421 4.7 x\n", "'4.7' is not an enhanced status code"},
      {"rate 421\n", "expected"},
  };
  for (const Bad& b : errors) {
    std::vector<QuotaPattern> out;
    Status s = ParseQuotaPatterns(b.text, &out);
    EXPECT_FALSE(s.ok()) << b.text;
    EXPECT_NE(s.message().find(b.error), std::string::npos) << s.message();
  }
}

TEST(QuotaReply, PauseLasts) {
  RateLimiter r;
  Limits none;
  const int64_t now = 1000000 * kSec;
  // Nothing known: a rate reply waits a minute, a daily one retry_max.
  EXPECT_EQ(QuotaPauseUntil(QuotaKind::kRate, r, "h:25", none, now, 3600), now + 60 * kSec);
  EXPECT_EQ(QuotaPauseUntil(QuotaKind::kDaily, r, "h:25", none, now, 3600), now + 3600 * kSec);
  // A message sent 23 h ago: the daily window moves in about an hour.
  int64_t until;
  std::string why;
  int64_t sent = now - 23 * 3600 * kSec;
  ASSERT_TRUE(r.TryAcquire("h:25", none, sent, &until, &why));
  int64_t end = (sent / RateLimiter::kMinute + 1) * RateLimiter::kMinute + RateLimiter::kDay;
  EXPECT_EQ(QuotaPauseUntil(QuotaKind::kDaily, r, "h:25", none, now, 3600), end);
  EXPECT_EQ(QuotaPauseUntil(QuotaKind::kDaily, r, "h:25", none, end - kSec, 3600), end - kSec + 60 * kSec)
      << "never less than a minute";
  // A rate limit holding longer than a minute wins.
  r.Pause("h:25", now + 300 * kSec, "quota");
  EXPECT_EQ(QuotaPauseUntil(QuotaKind::kRate, r, "h:25", none, now, 3600), now + 300 * kSec);
}

}  // namespace
}  // namespace relay
