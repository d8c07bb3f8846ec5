#include "relay/listen/auth_failures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace relay {
namespace {

AuthFailureLimits Limits(int limit, int64_t window, size_t max_addresses = 100) {
  AuthFailureLimits l;
  l.limit = limit;
  l.window = window;
  l.max_addresses = max_addresses;
  return l;
}

TEST(AuthFailureTable, BlocksAtTheLimitWithinTheWindow) {
  AuthFailureTable t(Limits(10, 3600));
  EXPECT_EQ(t.Record("192.0.2.2", 3, 1000), 3);
  EXPECT_EQ(t.Record("192.0.2.2", 3, 1100), 6);
  EXPECT_EQ(t.Record("192.0.2.2", 3, 1200), 9);
  EXPECT_FALSE(t.Blocked("192.0.2.2", 1200));
  EXPECT_EQ(t.BlockedFor("192.0.2.2", 1200), 0);
  EXPECT_EQ(t.Record("192.0.2.2", 1, 1300), 10);
  EXPECT_TRUE(t.Blocked("192.0.2.2", 1300));
  // Open again once the oldest of the last ten leaves the window.
  EXPECT_EQ(t.BlockedFor("192.0.2.2", 1300), 1000 + 3600 - 1300);
  EXPECT_TRUE(t.Blocked("192.0.2.2", 4599));
  EXPECT_FALSE(t.Blocked("192.0.2.2", 4600));
  EXPECT_EQ(t.Count("192.0.2.2", 4600), 7);
  // Other addresses are not concerned.
  EXPECT_FALSE(t.Blocked("192.0.2.3", 1300));
}

TEST(AuthFailureTable, SlidingWindow) {
  struct Case {
    int64_t at;
    int n;
    int count_after;  // failures within the last 60 s
  };
  const Case cases[] = {
      {0, 1, 1}, {30, 1, 2}, {59, 1, 3}, {60, 1, 3},  // the one at 0 left
      {89, 1, 4}, {90, 1, 4},                         // and the one at 30
      {500, 2, 2},
  };
  AuthFailureTable t(Limits(5, 60));
  for (const Case& c : cases) EXPECT_EQ(t.Record("a", c.n, c.at), c.count_after) << "at " << c.at;
}

TEST(AuthFailureTable, KeepsAtMostLimitTimesAndCapsTheCount) {
  AuthFailureTable t(Limits(3, 100));
  EXPECT_EQ(t.Record("a", 27, 0), 3);
  EXPECT_EQ(t.Record("a", 27, 10), 3);
  EXPECT_TRUE(t.Blocked("a", 109));
  EXPECT_EQ(t.BlockedFor("a", 50), 60);
  EXPECT_FALSE(t.Blocked("a", 110));
}

TEST(AuthFailureTable, EvictsTheAddressWithTheOldestFailureWhenFull) {
  AuthFailureTable t(Limits(2, 3600, 3));
  t.Record("a", 2, 0);
  t.Record("b", 1, 1);
  t.Record("c", 1, 2);
  t.Record("a", 1, 3);  // a is now the most recent
  EXPECT_EQ(t.size(), 3u);
  t.Record("d", 1, 4);  // b goes
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Count("b", 4), 0);
  EXPECT_TRUE(t.Blocked("a", 4));
  EXPECT_EQ(t.Count("c", 4), 1);
  EXPECT_EQ(t.Count("d", 4), 1);
  // Many new addresses cannot grow the table.
  for (int i = 0; i < 1000; ++i) t.Record("x" + std::to_string(i), 1, 5);
  EXPECT_EQ(t.size(), 3u);
}

TEST(AuthFailureTable, DropsAddressesWhoseFailuresLeftTheWindow) {
  AuthFailureTable t(Limits(5, 60));
  t.Record("a", 1, 0);
  t.Record("b", 1, 10);
  t.Record("c", 1, 100);  // a and b are past the window: dropped
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.Count("c", 100), 1);
}

TEST(AuthFailureTable, LimitZeroIsOff) {
  AuthFailureTable t(Limits(0, 60));
  EXPECT_EQ(t.Record("a", 3, 0), 0);
  EXPECT_FALSE(t.Blocked("a", 0));
  EXPECT_EQ(t.size(), 0u);
}

TEST(AuthFailureTable, NewLimitsApplyToKeptCounts) {
  AuthFailureTable t(Limits(10, 3600));
  t.Record("a", 5, 0);
  EXPECT_FALSE(t.Blocked("a", 1));
  t.SetLimits(Limits(4, 3600));
  EXPECT_TRUE(t.Blocked("a", 1));
  EXPECT_EQ(t.Count("a", 1), 4);
  t.SetLimits(Limits(4, 3600, 0));
  EXPECT_EQ(t.size(), 0u);
}

TEST(AuthFailureTable, ExitStatusCarriesTheCount) {
  struct Case {
    int failures;
    int status;
  };
  const Case cases[] = {{0, 0}, {1, 101}, {3, 103}, {27, 127}, {100, 127}, {-1, 0}};
  for (const Case& c : cases) {
    EXPECT_EQ(SmtpdExitStatus(c.failures), c.status) << c.failures;
    EXPECT_EQ(AuthFailuresFromExitStatus(c.status), c.failures <= 0 ? 0 : std::min(c.failures, 27));
  }
  // sysexits codes and others report nothing.
  for (int status : {64, 75, 77, 78, 99, 100, 128, 255}) EXPECT_EQ(AuthFailuresFromExitStatus(status), 0) << status;
}

}  // namespace
}  // namespace relay
