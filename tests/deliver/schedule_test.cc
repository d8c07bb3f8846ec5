// The queue runner's schedule (schedule.h): pure, the time is passed in.
#include "relay/deliver/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace relay {
namespace {

constexpr int64_t kSec = 1000000;
const Schedule::Stalled kNone = [](const std::string&) { return false; };

std::vector<std::string> Ids(const std::vector<Schedule::Work>& work) {
  std::vector<std::string> out;
  for (const Schedule::Work& w : work) out.push_back(w.id);
  return out;
}

TEST(Schedule, HandsOutDueEntriesInArrivalOrderOnce) {
  Schedule s;
  EXPECT_TRUE(s.Add("0000000000000003C", 0));
  EXPECT_TRUE(s.Add("0000000000000001A", 100 * kSec));
  EXPECT_TRUE(s.Add("0000000000000002B", 50 * kSec));
  EXPECT_FALSE(s.Add("0000000000000002B", 0)) << "a known entry keeps its schedule";
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(Ids(s.TakeDue(10 * kSec, kNone)), std::vector<std::string>{"0000000000000003C"});
  EXPECT_TRUE(s.Busy("0000000000000003C"));
  EXPECT_TRUE(s.TakeDue(10 * kSec, kNone).empty()) << "busy entries are not handed out twice";
  EXPECT_EQ(Ids(s.TakeDue(100 * kSec, kNone)),
            (std::vector<std::string>{"0000000000000001A", "0000000000000002B"}));
  EXPECT_TRUE(s.AnyBusy());
  s.Done("0000000000000001A", 200 * kSec);
  EXPECT_FALSE(s.Busy("0000000000000001A"));
  EXPECT_FALSE(s.AnyDue(199 * kSec, kNone));
  EXPECT_TRUE(s.AnyDue(200 * kSec, kNone));
  s.Remove("0000000000000002B");
  EXPECT_FALSE(s.Knows("0000000000000002B"));
  s.Done("0000000000000002B", 0);  // a late report of a removed entry
  EXPECT_FALSE(s.Knows("0000000000000002B"));
}

TEST(Schedule, AStalledEntryTakesNoWork) {
  Schedule s;
  s.Add("0000000000000001A", 0);
  s.Add("0000000000000002B", 0);
  std::set<std::string> stalled = {"0000000000000001A"};
  Schedule::Stalled is_stalled = [&](const std::string& id) { return stalled.count(id) > 0; };
  EXPECT_EQ(Ids(s.TakeDue(0, is_stalled)), std::vector<std::string>{"0000000000000002B"});
  EXPECT_FALSE(s.AnyDue(0, is_stalled));
  stalled.clear();
  s.SetNext("0000000000000001A", 5 * kSec);  // its progress written, due later
  EXPECT_FALSE(s.AnyDue(4 * kSec, is_stalled));
  EXPECT_EQ(Ids(s.TakeDue(5 * kSec, is_stalled)), std::vector<std::string>{"0000000000000001A"});
}

TEST(Schedule, FlushMakesEverythingDueForcedOnceAndLiftsThePause) {
  Schedule s;
  s.Add("0000000000000001A", 1000 * kSec);
  s.Add("0000000000000002B", 0);
  s.SetSitePause(2, 500 * kSec);
  EXPECT_TRUE(s.TakeDue(10 * kSec, kNone).empty()) << "paused";
  s.FlushAll();
  EXPECT_FALSE(s.Paused(10 * kSec));
  EXPECT_EQ(s.site_failures(), 2) << "a flush lifts the pause, not the count";
  std::vector<Schedule::Work> w = s.TakeDue(10 * kSec, kNone);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_TRUE(w[0].forced && w[1].forced);
  s.Done("0000000000000001A", 0);
  w = s.TakeDue(10 * kSec, kNone);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_FALSE(w[0].forced) << "forced once";
}

TEST(Schedule, NextWakeIsTheEarliestFreeEntryNoEarlierThanThePause) {
  Schedule s;
  EXPECT_EQ(s.MicrosUntilDue(0), -1) << "nothing scheduled";
  s.Add("0000000000000001A", 30 * kSec);
  s.Add("0000000000000002B", 20 * kSec);
  EXPECT_EQ(s.MicrosUntilDue(10 * kSec), 10 * kSec);
  EXPECT_EQ(s.MicrosUntilDue(25 * kSec), 0) << "overdue: now";
  s.PauseUntil(40 * kSec);
  EXPECT_EQ(s.MicrosUntilDue(10 * kSec), 30 * kSec);
  s.PauseUntil(0);
  s.TakeDue(20 * kSec, kNone);  // takes B only
  EXPECT_EQ(s.MicrosUntilDue(20 * kSec), 10 * kSec) << "busy entries are not waited for";
  s.TakeDue(30 * kSec, kNone);
  EXPECT_EQ(s.MicrosUntilDue(30 * kSec), -1);
}

TEST(Schedule, SmarthostBackoffDoublesFromAMinuteUpToRetryMin) {
  Schedule s;
  std::vector<int64_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(s.SiteFailed(1000 * kSec, 900));
  EXPECT_EQ(got, (std::vector<int64_t>{60, 120, 240, 480, 900, 900, 900, 900}));
  EXPECT_EQ(s.site_failures(), 8);
  EXPECT_EQ(s.site_down_until(), 1900 * kSec);
  EXPECT_TRUE(s.Paused(1899 * kSec));
  EXPECT_FALSE(s.Paused(1900 * kSec));
  s.SiteReached();
  EXPECT_EQ(s.site_failures(), 0);
  EXPECT_EQ(s.SiteFailed(0, 900), 60) << "the count starts again";
  Schedule quick;
  EXPECT_EQ(quick.SiteFailed(0, 30), 30) << "retry_min under a minute: never longer than retry_min";
  EXPECT_EQ(quick.SiteFailed(0, 30), 30);
}

TEST(Schedule, WorkNotStartedWaitsForThePause) {
  Schedule s;
  s.Add("0000000000000001A", 0);
  s.Add("0000000000000002B", 0);
  s.Add("0000000000000003C", 700 * kSec);
  ASSERT_EQ(s.TakeDue(0, kNone).size(), 2u);
  s.Done("0000000000000001A", 10 * kSec);  // its connection failed
  s.SiteFailed(0, 3600);                   // paused until 60 s
  s.Requeue("0000000000000002B");          // handed out, never started
  EXPECT_FALSE(s.Busy("0000000000000002B"));
  EXPECT_EQ(s.MicrosUntilDue(0), 60 * kSec);
  EXPECT_TRUE(s.TakeDue(59 * kSec, kNone).empty());
  EXPECT_EQ(Ids(s.TakeDue(60 * kSec, kNone)),
            (std::vector<std::string>{"0000000000000001A", "0000000000000002B"}));
  s.Add("0000000000000004D", 0);
  s.SiteFailed(60 * kSec, 3600);  // second failure: 120 s, until 180 s
  s.Requeue("0000000000000003C");  // later than the pause: keeps its own time
  s.Done("0000000000000001A", 0);
  s.Done("0000000000000002B", 0);
  EXPECT_TRUE(s.TakeDue(179 * kSec, kNone).empty());
  EXPECT_EQ(s.MicrosUntilDue(60 * kSec), 120 * kSec);
  EXPECT_EQ(Ids(s.TakeDue(180 * kSec, kNone)),
            (std::vector<std::string>{"0000000000000001A", "0000000000000002B", "0000000000000004D"}));
  EXPECT_EQ(s.MicrosUntilDue(180 * kSec), 520 * kSec);
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

TEST(Schedule, PauseKeepsTheLaterEndAndItsReason) {
  Schedule s;
  s.Add("0000000000000001A", 0);
  s.ExtendPause(100 * kSec, "rate: 421 4.7.0 Too many messages");
  s.ExtendPause(50 * kSec, "an earlier end");
  EXPECT_EQ(s.site_down_until(), 100 * kSec);
  EXPECT_EQ(s.pause_reason(), "rate: 421 4.7.0 Too many messages");
  EXPECT_TRUE(s.TakeDue(99 * kSec, kNone).empty()) << "nothing handed out while paused";
  EXPECT_EQ(s.MicrosUntilDue(10 * kSec), 90 * kSec);
  s.ExtendPause(200 * kSec, "quota: 550 5.4.5 Daily user sending quota exceeded");
  EXPECT_EQ(s.pause_reason(), "quota: 550 5.4.5 Daily user sending quota exceeded");
  s.FlushAll();
  EXPECT_EQ(s.site_down_until(), 0);
  EXPECT_EQ(s.pause_reason(), "");
  EXPECT_EQ(s.SiteFailed(300 * kSec, 300), 60);
  EXPECT_EQ(s.pause_reason(), "smarthost unreachable");
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// A dispatch must cost what it hands out, not the size of the queue: with
// 1M queued and every worker busy, a scan of every entry per dispatch made
// the drain quadratic (bench/results.md, growth curves: 7869 msg/s with
// 1k queued, about 9 with 1M).
TEST(Schedule, ADispatchLooksAtWhatItHandsOutNotTheWholeQueue) {
  constexpr int kQueued = 20000;
  Schedule s;
  char id[32];
  for (int i = 0; i < kQueued; ++i) {
    std::snprintf(id, sizeof id, "%017d", i);
    s.Add(id, (i % 2) ? 0 : 1000 * kSec);  // half due now, half much later
  }
  std::vector<Schedule::Work> w = s.TakeDue(0, kNone);
  ASSERT_EQ(w.size(), kQueued / 2u);
  EXPECT_LE(s.visited(), kQueued / 2u + 1) << "TakeDue walks the due entries, not the later ones";
  // Every due entry is busy now: nothing due, the next is 1000 s away.
  EXPECT_FALSE(s.AnyDue(0, kNone));
  EXPECT_LE(s.visited(), 1u) << "AnyDue with every due entry busy";
  EXPECT_EQ(s.MicrosUntilDue(0), 1000 * kSec);
  EXPECT_LE(s.visited(), 1u) << "MicrosUntilDue";
  EXPECT_TRUE(s.TakeDue(0, kNone).empty());
  EXPECT_LE(s.visited(), 1u) << "TakeDue with nothing due";
  // One worker finishes one entry: the next dispatch sees it at once.
  s.Done(w[123].id, 0);
  EXPECT_TRUE(s.AnyDue(0, kNone));
  EXPECT_LE(s.visited(), 1u);
  std::vector<Schedule::Work> again = s.TakeDue(0, kNone);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, w[123].id);
  EXPECT_LE(s.visited(), 2u);
  EXPECT_TRUE(s.AnyBusy());
}

// The index must not change what is handed out: a long random run of
// every operation against a plain model of the rules in schedule.h.
TEST(Schedule, RandomOperationsMatchTheRules) {
  struct Model {
    int64_t next = 0;
    bool busy = false;
    bool forced = false;
  };
  std::map<std::string, Model> model;
  std::set<std::string> stalled;
  Schedule::Stalled is_stalled = [&](const std::string& id) { return stalled.count(id) > 0; };
  Schedule s;
  uint32_t seed = 12345;
  auto rnd = [&](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  auto pick = [&](char* id) { std::snprintf(id, 32, "%017u", rnd(40)); };
  char id[32];
  int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    now += rnd(3) * kSec;
    pick(id);
    switch (rnd(9)) {
      case 0: {
        int64_t next = now + (static_cast<int64_t>(rnd(20)) - 5) * kSec;
        bool added = s.Add(id, next);
        EXPECT_EQ(added, model.count(id) == 0);
        if (added) model[id].next = next;
        break;
      }
      case 1:
        s.Remove(id);
        model.erase(id);
        break;
      case 2: {
        int64_t next = now + rnd(10) * kSec;
        s.Done(id, next);
        if (model.count(id)) model[id].busy = false, model[id].next = next;
        break;
      }
      case 3: {
        int64_t next = now + rnd(10) * kSec;
        s.SetNext(id, next);
        if (model.count(id)) model[id].next = next;
        break;
      }
      case 4:
        s.Requeue(id);
        if (model.count(id))
          model[id].busy = false, model[id].next = std::max(model[id].next, s.site_down_until());
        break;
      case 5:
        if (rnd(20) == 0) {
          s.FlushAll();
          for (auto& [k, m] : model) m.next = 0, m.forced = true;
        } else if (rnd(10) == 0) {
          s.PauseUntil(now + rnd(5) * kSec);
        }
        break;
      case 6:
        if (stalled.count(id)) stalled.erase(id);
        else if (rnd(4) == 0) stalled.insert(id);
        break;
      default: {
        bool paused = s.Paused(now);
        std::vector<std::string> want;
        for (auto& [k, m] : model)
          if (!m.busy && m.next <= now && !stalled.count(k)) want.push_back(k);
        EXPECT_EQ(s.AnyDue(now, is_stalled), !want.empty()) << "step " << step;
        int64_t until = -1;
        for (auto& [k, m] : model)
          if (!m.busy) {
            int64_t wait = std::max<int64_t>(0, std::max(m.next, s.site_down_until()) - now);
            if (until < 0 || wait < until) until = wait;
          }
        EXPECT_EQ(s.MicrosUntilDue(now), until) << "step " << step;
        std::vector<Schedule::Work> got = s.TakeDue(now, is_stalled);
        if (paused) want.clear();
        ASSERT_EQ(Ids(got), want) << "step " << step;
        for (const Schedule::Work& w : got) {
          EXPECT_EQ(w.forced, model[w.id].forced) << w.id;
          model[w.id].busy = true;
          model[w.id].forced = false;
        }
      }
    }
    bool any_busy = false;
    for (auto& [k, m] : model) any_busy |= m.busy;
    ASSERT_EQ(s.AnyBusy(), any_busy) << "step " << step;
    ASSERT_EQ(s.size(), model.size());
  }
}

}  // namespace
}  // namespace relay
