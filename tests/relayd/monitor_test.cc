// The alert engine's inputs as relayd reads them from a spool in a
// temporary directory: the oldest entry of queue/, hold/ and failed/,
// state/.health's hosts and totals, the free space.
#include "relay/relayd/monitor.h"

#include <gtest/gtest.h>

#include <fstream>

#include "relay/queue/health.h"
#include "relay/queue/queue_id.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

using testing::TempDir;

constexpr int64_t S = 1000000, T0 = 1800000000 * S;

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

TEST(Monitor, SnapshotOfAnEmptySpool) {
  TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  AlertSnapshot s = ReadAlertSnapshot(paths, T0);
  EXPECT_EQ(s.oldest_entry, 0);
  EXPECT_TRUE(s.hosts.empty());
  EXPECT_TRUE(s.spool_free_known);
  EXPECT_TRUE(QueueEmpty(paths));
}

TEST(Monitor, OldestEntryCountsHoldAndFailed) {
  struct Case {
    const char* where;  // the directory of the oldest entry
  } cases[] = {{"queue"}, {"hold"}, {"failed"}};
  for (const Case& c : cases) {
    TempDir dir;
    SpoolPaths paths(dir.path());
    ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
    std::string oldest = MakeQueueId(T0 - 7200 * S, 1);
    for (const char* d : {"queue", "hold", "failed"})
      Touch(dir.path() + "/" + d + "/" + (std::string(d) == c.where ? oldest : MakeQueueId(T0 - 60 * S, 2)));
    Touch(paths.failed_state_file(MakeQueueId(T0 - 60 * S, 2)));  // beside a failed entry: not an entry
    Touch(paths.trigger(Trigger::kFlush));
    AlertSnapshot s = ReadAlertSnapshot(paths, T0);
    EXPECT_EQ(s.oldest_id, oldest) << c.where;
    EXPECT_EQ(s.oldest_entry, QueueIdMicros(oldest)) << c.where;
    EXPECT_FALSE(QueueEmpty(paths));
  }
}

TEST(Monitor, HostsAndTotalsComeFromHealth) {
  TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  Health h;
  SmarthostHealth* down = FindHost(&h, "mx.example:587");
  down->failures = 3;
  down->down_since = T0 - 900 * S;
  down->last_error = "connect: Connection refused";
  down->auth_failing = true;
  SmarthostHealth* up = FindHost(&h, "backup.example:25");
  up->down_since = T0 - 5 * S;  // failures 0: cleared, not down
  up->token_problem = "invalid_grant";
  up->token_expiry = T0 + 60 * S;
  h.bounces_total = 7;
  h.corrupt_total = 1;
  h.failed_total = 2;
  ASSERT_TRUE(SaveHealth(paths, h).ok());
  AlertSnapshot s = ReadAlertSnapshot(paths, T0);
  ASSERT_EQ(s.hosts.size(), 2u);
  EXPECT_EQ(s.hosts[0].name, "mx.example:587");
  EXPECT_EQ(s.hosts[0].down_since, T0 - 900 * S);
  EXPECT_EQ(s.hosts[0].last_error, "connect: Connection refused");
  EXPECT_TRUE(s.hosts[0].auth_failing);
  EXPECT_EQ(s.hosts[1].down_since, 0);
  EXPECT_EQ(s.hosts[1].token_problem, "invalid_grant");
  EXPECT_EQ(s.hosts[1].token_expiry, T0 + 60 * S);
  EXPECT_EQ(s.bounces_total, 7u);
  EXPECT_EQ(s.corrupt_total, 1u);
  EXPECT_EQ(s.failed_total, 2u);
}

TEST(Monitor, ConfigKeys) {
  Config cfg;
  ASSERT_TRUE(ParseConfig("alert_command = /bin/true\nalert_queue_age = 2h\nalert_smarthost_down = 0\n"
                          "alert_interval = 15m\nalert_token_expiry = 1d\nalert_timeout = 5s\n"
                          "heartbeat_command = /bin/true x\nheartbeat_interval = 30m\ndelay_warning_time = 4h\n"
                          "spool_min_free = 1M\n",
                          "t", &cfg)
                  .ok());
  AlertConfig a = AlertConfigFrom(cfg);
  EXPECT_EQ(a.queue_age, 7200);
  EXPECT_EQ(a.smarthost_down, 0);
  EXPECT_EQ(a.interval, 900);
  EXPECT_EQ(a.token_expiry, 86400);
  EXPECT_EQ(a.spool_min_free, 1u << 20);
  EXPECT_EQ(cfg.alert_timeout, 5);
  EXPECT_EQ(cfg.heartbeat_command, "/bin/true x");
  EXPECT_EQ(cfg.heartbeat_interval, 1800);
  EXPECT_EQ(cfg.delay_warning_time, 4 * 3600);
  Config d;
  EXPECT_EQ(d.alert_command, "");
  EXPECT_EQ(d.delay_warning_time, 0) << "off by default, as in Postfix";
  for (const char* bad : {"alert_interval = 0\n", "alert_timeout = 0\n", "alert_timeout = 2d\n",
                          "heartbeat_interval = 0\n", "alert_queue_age = -1\n", "delay_warning_time = soon\n"}) {
    Config c;
    EXPECT_FALSE(ParseConfig(bad, "t", &c).ok()) << bad;
  }
}

}  // namespace
}  // namespace relay
