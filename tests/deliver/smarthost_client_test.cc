// The smarthost client's pure parts: the failover order delivery and
// relayctl test share, and the timeout of each stage. The bring-up itself
// runs against real servers in tests/e2e (credentials_test for relayctl
// test, smarthost_tls_test, postfix_auth_test and hostile_test for
// delivery).
#include "relay/deliver/smarthost_client.h"

#include <gtest/gtest.h>

#include "relay/base/env.h"

namespace relay {
namespace {

std::vector<std::string> Names(const std::vector<const Smarthost*>& order) {
  std::vector<std::string> out;
  for (const Smarthost* h : order) out.push_back(HostKey(*h));
  return out;
}

TEST(SmarthostClient, FailoverOrderPutsHostsMarkedDownLast) {
  std::vector<Smarthost> hosts(3);
  hosts[0].host = "a.test";
  hosts[0].port = 25;
  hosts[1].host = "b.test";
  hosts[1].port = 587;
  hosts[2].host = "c.test";
  hosts[2].port = 25;
  HostHealth health;
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"a.test:25", "b.test:587", "c.test:25"}));
  health.MarkDown("a.test:25");
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"b.test:587", "c.test:25", "a.test:25"}));
  health.MarkDown("c.test:25");
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"b.test:587", "a.test:25", "c.test:25"}));
  health.MarkDown("b.test:587");  // all down: still all tried, configured order
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"a.test:25", "b.test:587", "c.test:25"}));
  health.MarkUp("c.test:25");
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"c.test:25", "a.test:25", "b.test:587"}));
  health.MarkUp("b.test:587");
  health.MarkDown("b.test:25");  // another port of b: not the one configured
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"b.test:587", "c.test:25", "a.test:25"}));
  EXPECT_EQ(FailoverOrder({}, health).size(), 0u);
}

TEST(SmarthostClient, EachStageHasItsTimeout) {
  Config cfg;
  cfg.timeout_greeting = 11;
  cfg.timeout_command = 22;
  cfg.timeout_data_init = 33;
  cfg.timeout_data_done = 44;
  EXPECT_EQ(StageTimeoutMs(cfg, Stage::kGreeting), 11000);
  for (Stage s : {Stage::kEhlo, Stage::kHelo, Stage::kStartTls, Stage::kAuth, Stage::kMail, Stage::kRcpt,
                  Stage::kRset, Stage::kQuit, Stage::kNone})
    EXPECT_EQ(StageTimeoutMs(cfg, s), 22000);
  EXPECT_EQ(StageTimeoutMs(cfg, Stage::kData), 33000);
  EXPECT_EQ(StageTimeoutMs(cfg, Stage::kDot), 44000);
  cfg.timeout_data_done = int64_t{1} << 40;  // capped, no overflow
  EXPECT_EQ(StageTimeoutMs(cfg, Stage::kDot), 1 << 30);
}

TEST(SmarthostClient, HostPenaltyGrowsWithFailuresUpToTheCap) {
  constexpr int64_t kT = 1700000000000000, kS = 1000000;
  struct {
    int failures;
    int64_t cap;
    int64_t until;
  } cases[] = {
      {0, 3600, 0},          {-1, 3600, 0},           {1, 3600, kT + 60 * kS},  {2, 3600, kT + 120 * kS},
      {3, 3600, kT + 240 * kS}, {7, 3600, kT + 3600 * kS}, {1000000, 3600, kT + 3600 * kS},
      {1, 30, kT + 30 * kS},  {5, 100, kT + 100 * kS},
  };
  for (const auto& c : cases) EXPECT_EQ(HostPenaltyUntil(c.failures, kT, c.cap), c.until) << c.failures;
}

TEST(SmarthostClient, HealthFromAnEarlierRunAndAFlush) {
  std::vector<Smarthost> hosts(2);
  hosts[0].host = "a.test";
  hosts[0].port = 25;
  hosts[1].host = "b.test";
  hosts[1].port = 25;
  HostHealth health;
  int64_t now = Env::Default()->NowMicros();
  health.MarkDownUntil("a.test:25", now + 60000000);
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"b.test:25", "a.test:25"}));
  health.MarkDownUntil("a.test:25", now - 1);  // its penalty is over
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"a.test:25", "b.test:25"}));
  health.MarkDownUntil("a.test:25", now + 60000000);
  health.Clear();
  EXPECT_EQ(Names(FailoverOrder(hosts, health)), (std::vector<std::string>{"a.test:25", "b.test:25"}));
}

}  // namespace
}  // namespace relay
