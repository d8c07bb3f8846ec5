#include "relay/relayd/alerts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relay {
namespace {

constexpr int64_t S = 1000000;  // one second in micros
constexpr int64_t T0 = 1800000000 * S;

AlertConfig Cfg() {
  AlertConfig c;
  c.queue_age = 3600;
  c.smarthost_down = 600;
  c.interval = 3600;
  c.token_expiry = 86400;
  c.spool_min_free = 1000;
  return c;
}

// Runs one step; the state is carried by the caller.
std::vector<AlertEvent> Step(const AlertSnapshot& snap, AlertState* st, int64_t now, const AlertConfig& cfg = Cfg(),
                             int64_t* next = nullptr) {
  int64_t n = 0;
  auto conds = AlertConditions(snap, cfg, *st, now);
  auto ev = StepAlerts(conds, cfg, snap, now, st, &n);
  if (next) *next = n;
  return ev;
}

std::string Kinds(const std::vector<AlertEvent>& ev) {
  std::string out;
  for (const AlertEvent& e : ev) out += (out.empty() ? "" : " ") + e.kind + (e.firing ? "+" : "-");
  return out;
}

AlertSnapshot DownHost(int64_t since) {
  AlertSnapshot s;
  s.hosts.push_back({"mx.example:587", since, "connect: Connection refused", false, "", 0});
  return s;
}

TEST(Alerts, NothingWrongIsSilent) {
  AlertState st;
  AlertSnapshot s;
  s.hosts.push_back({"mx.example:587", 0, "", false, "", 0});
  EXPECT_EQ(Kinds(Step(s, &st, T0)), "");
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 10 * S)), "");
}

TEST(Alerts, QueueAgeFiresAtTheThresholdAndResolves) {
  AlertState st;
  AlertSnapshot s;
  s.oldest_entry = T0;
  s.oldest_id = "ABC";
  int64_t next = 0;
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3599 * S, Cfg(), &next)), "");
  EXPECT_EQ(next, T0 + 3600 * S);  // relayd wakes when it starts to hold
  auto ev = Step(s, &st, T0 + 3600 * S);
  ASSERT_EQ(Kinds(ev), "queue_age+");
  EXPECT_EQ(ev[0].since, T0 + 3600 * S);
  std::string json = AlertJson(ev[0], "h", T0 + 3600 * S);
  EXPECT_NE(json.find("\"oldest_id\": \"ABC\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"oldest_age_seconds\": 3600"), std::string::npos) << json;
  s.oldest_entry = 0;
  ev = Step(s, &st, T0 + 3700 * S);
  ASSERT_EQ(Kinds(ev), "queue_age-");
  EXPECT_EQ(ev[0].since, T0 + 3600 * S);
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3800 * S)), "");  // exactly one resolved
}

TEST(Alerts, SmarthostDownOnceThenResolved) {
  AlertState st;
  AlertSnapshot s = DownHost(T0);
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 599 * S)), "");
  auto ev = Step(s, &st, T0 + 600 * S);
  ASSERT_EQ(Kinds(ev), "smarthost_down+");
  EXPECT_EQ(ev[0].since, T0);
  std::string json = AlertJson(ev[0], "h", T0 + 600 * S);
  EXPECT_NE(json.find("\"smarthost\": \"mx.example:587\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"since\": 1800000000"), std::string::npos) << json;
  // Many runs while it stays down: nothing more within the interval.
  for (int i = 1; i < 30; ++i) EXPECT_EQ(Kinds(Step(s, &st, T0 + 600 * S + i * 100 * S)), "") << i;
  s.hosts[0].down_since = 0;
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3500 * S)), "smarthost_down-");
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3600 * S)), "");
}

TEST(Alerts, StillFiringRemindsOncePerInterval) {
  AlertState st;
  AlertSnapshot s = DownHost(T0);
  int count = 0;
  for (int64_t t = T0 + 600 * S; t < T0 + 600 * S + 3 * 3600 * S; t += 60 * S) count += Step(s, &st, t).size();
  EXPECT_EQ(count, 3);  // at +600 s, one interval later, two intervals later
}

TEST(Alerts, FlappingFiresAtMostOncePerInterval) {
  AlertState st;
  int firing = 0, resolved = 0;
  AlertConfig cfg = Cfg();
  cfg.smarthost_down = 1;
  for (int i = 0; i < 100; ++i) {
    int64_t t = T0 + i * 20 * S;  // down for 10 s, up for 10 s, for 2000 s
    AlertSnapshot s = DownHost(i % 2 == 0 ? t - 10 * S : 0);
    for (const AlertEvent& e : Step(s, &st, t, cfg)) (e.firing ? firing : resolved)++;
  }
  EXPECT_EQ(firing, 1);
  EXPECT_EQ(resolved, 1);
}

TEST(Alerts, AuthFailingTokenProblemAndExpiry) {
  struct Case {
    bool auth_failing;
    std::string problem;
    int64_t expiry;
    bool fires;
    std::string reason;
  } cases[] = {
      {true, "", 0, true, "the smarthost refused AUTH"},
      {false, "invalid_grant: run relayctl oauth", 0, true, "token problem"},
      {false, "", T0 + 3600 * S, true, "the token expires soon"},
      {false, "", T0 + 2 * 86400 * S, false, ""},
      {false, "", 0, false, ""},
  };
  for (const Case& c : cases) {
    AlertState st;
    AlertSnapshot s;
    s.hosts.push_back({"mx.example:587", 0, "", c.auth_failing, c.problem, c.expiry});
    auto ev = Step(s, &st, T0);
    ASSERT_EQ(Kinds(ev), c.fires ? "auth+" : "") << c.problem;
    if (!c.fires) continue;
    std::string json = AlertJson(ev[0], "h", T0);
    EXPECT_NE(json.find("\"reason\": \"" + c.reason + "\""), std::string::npos) << json;
    s.hosts[0] = {"mx.example:587", 0, "", false, "", 0};
    EXPECT_EQ(Kinds(Step(s, &st, T0 + S)), "auth-");
  }
}

TEST(Alerts, TokenExpiryAlertOffByDefault) {
  AlertState st;
  AlertConfig cfg = Cfg();
  cfg.token_expiry = 0;
  AlertSnapshot s;
  s.hosts.push_back({"mx.example:587", 0, "", false, "", T0 + S});
  EXPECT_EQ(Kinds(Step(s, &st, T0, cfg)), "");
}

TEST(Alerts, BounceBurstGivesBoundedEvents) {
  AlertState st;
  AlertSnapshot s;
  s.bounces_total = 7;  // earlier bounces: the first look is a baseline
  EXPECT_EQ(Kinds(Step(s, &st, T0)), "");
  int firing = 0, resolved = 0;
  uint64_t reported = 0;
  for (int i = 1; i <= 100; ++i) {
    s.bounces_total = 7 + i;
    for (const AlertEvent& e : Step(s, &st, T0 + i * S)) {
      (e.firing ? firing : resolved)++;
      reported += e.count;
    }
  }
  EXPECT_EQ(firing, 1);
  EXPECT_EQ(reported, 1u);
  // An interval later: a reminder with the 99 not yet reported, then the
  // resolved one an interval after the last bounce.
  auto ev = Step(s, &st, T0 + 3601 * S);
  ASSERT_EQ(Kinds(ev), "bounce+");
  EXPECT_EQ(ev[0].count, 99u);
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3650 * S)), "");
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 3700 * S)), "bounce-");
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 9000 * S)), "");
}

TEST(Alerts, SetAsideCountsCorruptAndFailed) {
  AlertState st;
  AlertSnapshot s;
  Step(s, &st, T0);
  s.corrupt_total = 1;
  s.failed_total = 2;
  auto ev = Step(s, &st, T0 + S);
  ASSERT_EQ(Kinds(ev), "set_aside+");
  EXPECT_EQ(ev[0].count, 3u);
  std::string json = AlertJson(ev[0], "h", T0 + S);
  EXPECT_NE(json.find("\"corrupt_total\": 1, \"failed_total\": 2"), std::string::npos) << json;
  int64_t next = 0;
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 2 * S, Cfg(), &next)), "");
  EXPECT_EQ(next, T0 + S + 3600 * S);  // when it resolves
  EXPECT_EQ(Kinds(Step(s, &st, next)), "set_aside-");
}

TEST(Alerts, CounterGoingBackIsABaseline) {
  AlertState st;
  AlertSnapshot s;
  s.bounces_total = 50;
  Step(s, &st, T0);
  s.bounces_total = 0;  // state/.health was removed
  EXPECT_EQ(Kinds(Step(s, &st, T0 + S)), "");
  s.bounces_total = 1;
  EXPECT_EQ(Kinds(Step(s, &st, T0 + 2 * S)), "bounce+");
}

TEST(Alerts, SpoolSpaceBelowTwiceTheFloor) {
  struct Case {
    uint64_t free;
    bool fires;
  } cases[] = {{0, true}, {1999, true}, {2000, false}, {1u << 30, false}};
  for (const Case& c : cases) {
    AlertState st;
    AlertSnapshot s;
    s.spool_free_known = true;
    s.spool_free = c.free;
    EXPECT_EQ(Kinds(Step(s, &st, T0)), c.fires ? "spool_space+" : "") << c.free;
  }
  AlertState st;
  AlertSnapshot s;
  s.spool_free = 0;  // unknown: statvfs failed
  EXPECT_EQ(Kinds(Step(s, &st, T0)), "");
}

TEST(Alerts, TurnedOffKindsNeverFire) {
  AlertConfig cfg;
  cfg.queue_age = 0;
  cfg.smarthost_down = 0;
  AlertState st;
  AlertSnapshot s = DownHost(T0 - 86400 * S);
  s.oldest_entry = T0 - 86400 * S;
  EXPECT_EQ(Kinds(Step(s, &st, T0, cfg)), "");
}

TEST(Alerts, RestartReloadsTheState) {
  AlertState st;
  AlertSnapshot s = DownHost(T0);
  s.bounces_total = 3;
  Step(s, &st, T0);
  ASSERT_EQ(Kinds(Step(s, &st, T0 + 600 * S)), "smarthost_down+");
  s.bounces_total = 4;
  ASSERT_EQ(Kinds(Step(s, &st, T0 + 601 * S)), "bounce+");
  st.last_heartbeat = T0 + 5 * S;
  // relayd restarts: the state comes back from state/.alerts.
  AlertState again = AlertState::Parse(st.Encode());
  EXPECT_EQ(again.Encode(), st.Encode());
  EXPECT_EQ(again.last_heartbeat, T0 + 5 * S);
  EXPECT_EQ(Kinds(Step(s, &again, T0 + 700 * S)), "");  // no repeat
  s.hosts[0].down_since = 0;
  EXPECT_EQ(Kinds(Step(s, &again, T0 + 800 * S)), "smarthost_down-");
  // Without the file, the counters are a baseline and nothing repeats.
  AlertState fresh;
  EXPECT_EQ(Kinds(Step(s, &fresh, T0 + 900 * S)), "");
}

TEST(Alerts, DamagedStateFileIsSkipped) {
  const char* texts[] = {
      "",
      "relay-alerts 2\nalert 1 1 1 0 0 queue_age\n",
      "relay-alerts 1\nalert 2 1 1 0 0 queue_age\n",
      "relay-alerts 1\nalert 1 x 1 0 0 queue_age\n",
      "relay-alerts 1\nalert 1 1 1 0 0\n",
      "relay-alerts 1\ncounters 1 2\n",
      "relay-alerts 1\ncounters -1 2 3\n",
  };
  for (const char* t : texts) {
    AlertState st = AlertState::Parse(t);
    EXPECT_TRUE(st.entries.empty()) << t;
    EXPECT_FALSE(st.counters_known) << t;
  }
  AlertState st = AlertState::Parse("relay-alerts 1\nbogus\nalert 1 5 6 0 0 smarthost_down:h:25\n");
  ASSERT_EQ(st.entries.size(), 1u);
  EXPECT_TRUE(st.entries["smarthost_down:h:25"].firing);
  EXPECT_EQ(st.entries["smarthost_down:h:25"].last_alert, 6);
}

TEST(Alerts, RemovedSmarthostResolves) {
  AlertState st;
  ASSERT_EQ(Kinds(Step(DownHost(T0), &st, T0 + 600 * S)), "smarthost_down+");
  AlertSnapshot none;  // relay.conf now names another smarthost
  auto ev = Step(none, &st, T0 + 700 * S);
  ASSERT_EQ(Kinds(ev), "smarthost_down-");
  EXPECT_EQ(ev[0].since, T0);
  EXPECT_EQ(Kinds(Step(none, &st, T0 + 800 * S)), "");
}

TEST(Alerts, JsonFields) {
  AlertEvent e;
  e.kind = "smarthost_down";
  e.firing = false;
  e.since = T0;
  e.text = {{"smarthost", "mx:25"}, {"error", "5\"x\\\n"}};
  EXPECT_EQ(AlertJson(e, "host.example", T0 + 2 * S),
            "{\"kind\": \"smarthost_down\", \"state\": \"resolved\", \"since\": 1800000000, \"time\": 1800000002, "
            "\"host\": \"host.example\", \"smarthost\": \"mx:25\", \"error\": \"5\\\"x\\\\\\n\"}");
}

}  // namespace
}  // namespace relay
