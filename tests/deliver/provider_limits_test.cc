// A run's provider limits (provider_limits.h): limits, quota replies and
// pauses as the workers meet them. No I/O.
#include "relay/deliver/provider_limits.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

constexpr int64_t kSec = 1000000;
constexpr int64_t kT0 = 1800000000LL * kSec;

Config TwoHosts() {
  Config cfg;
  EXPECT_TRUE(ParseSmarthosts("a.example:587, b.example:587", &cfg.smarthosts).ok());
  cfg.smarthost_rate_limit = 1;
  cfg.retry_max = 3600;
  return cfg;
}

TEST(ProviderLimits, EachSmarthostHasItsOwnLimit) {
  Config cfg = TwoHosts();
  ProviderLimits p(cfg, BuiltinQuotaPatterns(), RateLimiter());
  int64_t until;
  std::string why;
  EXPECT_TRUE(p.Acquire("a.example:587", kT0, &until, &why));
  EXPECT_FALSE(p.Allowed("a.example:587", kT0));
  EXPECT_EQ(p.EarliestAllowed(cfg.smarthosts, kT0, &why), kT0) << "b may still go";
  EXPECT_TRUE(p.Acquire("b.example:587", kT0 + kSec, &until, &why));
  EXPECT_EQ(p.EarliestAllowed(cfg.smarthosts, kT0 + 2 * kSec, &why), kT0 + 60 * kSec);
  EXPECT_NE(why.find("smarthost_rate_limit"), std::string::npos);
}

TEST(ProviderLimits, QuotaReplyPausesOnlyThatHost) {
  Config cfg = TwoHosts();
  ProviderLimits p(cfg, BuiltinQuotaPatterns(), RateLimiter());
  int64_t until = 0;
  std::string reason;
  EXPECT_FALSE(p.OnReply("a.example:587", "550 5.1.1 no such user", kT0, &until, &reason));
  EXPECT_FALSE(p.OnReply("a.example:587", "530 5.7.60 SMTP; Client does not have permissions to send as this sender",
                         kT0, &until, &reason));
  ASSERT_TRUE(p.OnReply("a.example:587", "MAIL FROM: 550 5.4.5 Daily user sending quota exceeded", kT0, &until,
                        &reason));
  EXPECT_EQ(until, kT0 + 3600 * kSec) << "nothing counted: retry_max";
  EXPECT_EQ(reason, "quota: MAIL FROM: 550 5.4.5 Daily user sending quota exceeded");
  EXPECT_FALSE(p.Allowed("a.example:587", kT0 + 3599 * kSec));
  EXPECT_TRUE(p.Allowed("b.example:587", kT0));
  ASSERT_TRUE(p.OnReply("b.example:587", "421 4.7.0 Too many messages", kT0, &until, &reason));
  EXPECT_EQ(until, kT0 + 60 * kSec);
  EXPECT_EQ(reason, "rate: 421 4.7.0 Too many messages");
  std::string why;
  EXPECT_EQ(p.EarliestAllowed(cfg.smarthosts, kT0, &why), kT0 + 60 * kSec);
  EXPECT_EQ(why, "paused: rate: 421 4.7.0 Too many messages");
  bool changed = false;
  RateLimiter saved = p.Snapshot(kT0, &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(saved.hosts().at("a.example:587").pause_until, kT0 + 3600 * kSec);
  p.Snapshot(kT0, &changed);
  EXPECT_FALSE(changed) << "nothing new since";
  p.ClearPauses();
  EXPECT_TRUE(p.Allowed("a.example:587", kT0));
  p.Snapshot(kT0, &changed);
  EXPECT_TRUE(changed);
}

}  // namespace
}  // namespace relay
