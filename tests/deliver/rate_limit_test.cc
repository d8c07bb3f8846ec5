// Provider limits' accounting (rate_limit.h): pure, the time is passed in.
#include "relay/deliver/rate_limit.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

constexpr int64_t kSec = 1000000;
constexpr int64_t kT0 = 1800000000LL * kSec;  // any time; minute-aligned
const std::string kHost = "smtp.example.com:587";

TEST(RateLimiter, PerMinuteIsASlidingWindow) {
  RateLimiter r;
  Limits l{3, 0};
  int64_t until;
  std::string why;
  EXPECT_TRUE(r.TryAcquire(kHost, l, kT0, &until, &why));
  EXPECT_TRUE(r.TryAcquire(kHost, l, kT0 + 10 * kSec, &until, &why));
  EXPECT_TRUE(r.TryAcquire(kHost, l, kT0 + 20 * kSec, &until, &why));
  EXPECT_FALSE(r.TryAcquire(kHost, l, kT0 + 30 * kSec, &until, &why));
  EXPECT_EQ(until, kT0 + 60 * kSec) << "when the oldest of the three is a minute old";
  EXPECT_NE(why.find("smarthost_rate_limit: 3 messages a minute"), std::string::npos) << why;
  EXPECT_EQ(r.CountMinute(kHost, kT0 + 30 * kSec), 3);
  EXPECT_FALSE(r.TryAcquire(kHost, l, kT0 + 60 * kSec - 1, &until, &why)) << "not a microsecond early";
  EXPECT_TRUE(r.TryAcquire(kHost, l, kT0 + 60 * kSec, &until, &why));
  EXPECT_FALSE(r.TryAcquire(kHost, l, kT0 + 61 * kSec, &until, &why));
  EXPECT_EQ(until, kT0 + 70 * kSec);
  // Another smarthost has its own count; no limit: never held.
  EXPECT_TRUE(r.TryAcquire("other:25", l, kT0 + 61 * kSec, &until, &why));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(r.TryAcquire("free:25", Limits{}, kT0 + i, &until, &why));
}

TEST(RateLimiter, DailyIsRollingInMinuteBuckets) {
  RateLimiter r;
  Limits l{0, 4};
  int64_t until;
  std::string why;
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0 + 5 * kSec, &until, &why));          // minute 0
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0 + 3600 * kSec, &until, &why));       // an hour later
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0 + 3610 * kSec, &until, &why));
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0 + 7200 * kSec, &until, &why));
  EXPECT_EQ(r.CountDay(kHost, kT0 + 7200 * kSec), 4);
  EXPECT_FALSE(r.TryAcquire(kHost, l, kT0 + 7300 * kSec, &until, &why));
  // The first message's minute ends at kT0 + 60 s; it counts 24 h beyond.
  EXPECT_EQ(until, kT0 + 60 * kSec + RateLimiter::kDay);
  EXPECT_NE(why.find("smarthost_daily_limit: 4 messages a day"), std::string::npos) << why;
  EXPECT_FALSE(r.TryAcquire(kHost, l, until - 1, &until, &why));
  int64_t next = kT0 + 60 * kSec + RateLimiter::kDay;
  EXPECT_TRUE(r.TryAcquire(kHost, l, next, &until, &why));
  // Full again: two went in the same minute, the next slot is after both.
  EXPECT_FALSE(r.TryAcquire(kHost, l, next, &until, &why));
  EXPECT_EQ(until, kT0 + 3660 * kSec + RateLimiter::kDay);
  EXPECT_EQ(r.DailyWindowEnd(kHost, next), kT0 + 3660 * kSec + RateLimiter::kDay);
}

TEST(RateLimiter, PauseHoldsWithItsReason) {
  RateLimiter r;
  int64_t until;
  std::string why;
  r.Pause(kHost, kT0 + 100 * kSec, "quota: 550 5.4.5 Daily user sending quota exceeded");
  r.Pause(kHost, kT0 + 50 * kSec, "an earlier end does not shorten it");
  EXPECT_FALSE(r.TryAcquire(kHost, Limits{}, kT0, &until, &why));
  EXPECT_EQ(until, kT0 + 100 * kSec);
  EXPECT_EQ(why, "paused: quota: 550 5.4.5 Daily user sending quota exceeded");
  EXPECT_TRUE(r.TryAcquire(kHost, Limits{}, kT0 + 100 * kSec, &until, &why));
  r.Pause(kHost, kT0 + 200 * kSec, "two\r\nlines");
  EXPECT_EQ(r.hosts().at(kHost).pause_reason, "two  lines");
}

TEST(RateLimiter, LedgerRoundTripsAndPrunes) {
  RateLimiter r;
  Limits l{2, 3};
  int64_t until;
  std::string why;
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0, &until, &why));
  ASSERT_TRUE(r.TryAcquire(kHost, l, kT0 + kSec, &until, &why));
  r.Pause("[::1]:25", kT0 + 500 * kSec, "quota: 421 4.7.0 too many");
  RateLimiter back = RateLimiter::Parse(r.Encode());
  EXPECT_EQ(back.Encode(), r.Encode());
  // The next run goes on with the same windows.
  EXPECT_FALSE(back.TryAcquire(kHost, l, kT0 + 2 * kSec, &until, &why));
  EXPECT_EQ(until, kT0 + 60 * kSec);
  EXPECT_EQ(back.NextAllowed("[::1]:25", l, kT0, &why), kT0 + 500 * kSec);
  EXPECT_EQ(why, "paused: quota: 421 4.7.0 too many");
  back.Prune(kT0 + RateLimiter::kDay + 120 * kSec);
  EXPECT_TRUE(back.hosts().empty()) << back.Encode();
}

TEST(RateLimiter, DamagedLedgerLosesCountsNeverParses) {
  const char* texts[] = {
      "", "garbage\n", "sent 1 2 3\n",  // before any host line
      "host h:25\nsent x 5 -\nday 1:2 3 :4 5: 7:-1 8:99999999999\npause nope\n",
      "host h:25\nsent 9 8 7\n",  // out of order: the later ones dropped
  };
  for (const char* t : texts) {
    RateLimiter r = RateLimiter::Parse(t);
    std::string enc = r.Encode();
    EXPECT_EQ(RateLimiter::Parse(enc).Encode(), enc) << t;
  }
  RateLimiter r = RateLimiter::Parse("host h:25\nsent x 5 -\nday 1:2 3 :4 5: 7:-1\npause nope\n");
  EXPECT_EQ(r.Encode(), "host h:25\nsent 5\nday 1:2\n");
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// Found by fuzz/provider_fuzz.cc: two host sections whose names differ
// only by a CR were written as one name and read back merged.
TEST(RateLimiter, LedgerNamesWithLineBreaksReadBackAsWritten) {
  RateLimiter r = RateLimiter::Parse("host h\r\nday 1:2\nhost h \nday 1:3\npause 9 a\rb\n");
  std::string enc = r.Encode();
  EXPECT_EQ(enc, "host h \npause 9 a b\nday 1:5\n");
  EXPECT_EQ(RateLimiter::Parse(enc).Encode(), enc);
  // Counts that would overflow are dropped, not wrapped.
  RateLimiter big = RateLimiter::Parse("host h\nday 1:1000000000 1:1000000000\n");
  EXPECT_EQ(big.Encode(), "host h\nday 1:1000000000\n");
}

}  // namespace
}  // namespace relay
