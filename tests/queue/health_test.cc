// state/.health: the encoder against the parser, what the tolerant reader
// makes of damaged text, and the locked read-change-write (health.h).
#include "relay/queue/health.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "relay/base/env.h"
#include "relay/queue/spool.h"
#include "../testutil/temp_dir.h"

namespace relay {
namespace {

SmarthostHealth FullHost(const std::string& name) {
  SmarthostHealth h;
  h.name = name;
  h.sent_total = 18446744073709551615u;  // the largest counter survives
  h.deferred_total = 2;
  h.bounced_total = 3;
  h.failures = 4;
  h.down_since = 1700000000000005;
  h.last_success = 1700000000000006;
  h.last_reached = 1700000000000012;
  h.last_error_time = 1700000000000007;
  h.last_error = "421 4.7.0 try later";
  h.auth_failing = true;
  h.pause_until = 1700000000000008;
  h.pause_reason = "quota: 550 5.4.5 Daily user sending quota exceeded";
  h.token_expiry = 1700000000000009;
  h.token_refreshed = 1700000000000010;
  h.refresh_token_issued = 1700000000000011;
  h.token_problem = "invalid_grant: run relayctl oauth";
  return h;
}

void ExpectSameHost(const SmarthostHealth& a, const SmarthostHealth& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.sent_total, b.sent_total);
  EXPECT_EQ(a.deferred_total, b.deferred_total);
  EXPECT_EQ(a.bounced_total, b.bounced_total);
  EXPECT_EQ(a.failures, b.failures);
  EXPECT_EQ(a.down_since, b.down_since);
  EXPECT_EQ(a.last_success, b.last_success);
  EXPECT_EQ(a.last_reached, b.last_reached);
  EXPECT_EQ(a.last_error_time, b.last_error_time);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.auth_failing, b.auth_failing);
  EXPECT_EQ(a.pause_until, b.pause_until);
  EXPECT_EQ(a.pause_reason, b.pause_reason);
  EXPECT_EQ(a.token_expiry, b.token_expiry);
  EXPECT_EQ(a.token_refreshed, b.token_refreshed);
  EXPECT_EQ(a.refresh_token_issued, b.refresh_token_issued);
  EXPECT_EQ(a.token_problem, b.token_problem);
}

TEST(Health, EveryFieldRoundTrips) {
  Health h;
  h.bounces_total = 11;
  h.corrupt_total = 12;
  h.failed_total = 13;
  h.delay_notices_total = 14;
  h.last_sent = 1700000000000015;
  h.hosts.push_back(FullHost("smtp.example.com:587"));
  h.hosts.push_back(FullHost("[2001:db8::1]:25"));
  h.hosts[1].auth_failing = false;
  Health back = Health::Parse(h.Encode());
  EXPECT_EQ(back.bounces_total, 11u);
  EXPECT_EQ(back.corrupt_total, 12u);
  EXPECT_EQ(back.failed_total, 13u);
  EXPECT_EQ(back.delay_notices_total, 14u);
  EXPECT_EQ(back.last_sent, 1700000000000015);
  ASSERT_EQ(back.hosts.size(), 2u);
  ExpectSameHost(back.hosts[0], h.hosts[0]);
  ExpectSameHost(back.hosts[1], h.hosts[1]);
}

TEST(Health, TheFormatIsKeyValueLines) {
  Health h;
  h.last_sent = 5;
  SmarthostHealth* s = FindHost(&h, "mx:25");
  s->sent_total = 7;
  std::string text = h.Encode();
  EXPECT_EQ(text.substr(0, 12), "last_sent 5\n");
  EXPECT_NE(text.find("\nhost mx:25 sent_total 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nhost mx:25 last_error \n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nhost mx:25 auth_failing 0\n"), std::string::npos) << text;
}

TEST(Health, TextStaysOnOneLineAndForgesNothing) {
  Health h;
  SmarthostHealth* s = FindHost(&h, "mx:25");
  s->last_error = "said\r\nlast_sent 99\nhost mx:25 sent_total 1000";
  s->pause_reason = "a\nbounces_total 5";
  s->token_problem = "x\rhost evil:25 failures 9";
  Health back = Health::Parse(h.Encode());
  EXPECT_EQ(back.last_sent, 0);
  EXPECT_EQ(back.bounces_total, 0u);
  ASSERT_EQ(back.hosts.size(), 1u) << h.Encode();
  EXPECT_EQ(back.hosts[0].sent_total, 0u);
  EXPECT_EQ(back.hosts[0].last_error, "said  last_sent 99 host mx:25 sent_total 1000");
  EXPECT_EQ(back.hosts[0].pause_reason, "a bounces_total 5");
  EXPECT_EQ(back.hosts[0].token_problem, "x host evil:25 failures 9");
}

TEST(Health, WhiteSpaceInANameCannotSplitIt) {
  for (const char* name : {"a b:25", "a\tb:25", "a\nb:25", "a\rb:25"}) {
    Health h;
    FindHost(&h, name)->sent_total = 3;
    Health back = Health::Parse(h.Encode());
    ASSERT_EQ(back.hosts.size(), 1u) << name;
    EXPECT_EQ(back.hosts[0].name, "a_b:25") << name;
    EXPECT_EQ(back.hosts[0].sent_total, 3u) << name;
  }
}

TEST(Health, WhatCannotBeReadStaysEmpty) {
  const char* cases[] = {
      "",
      "garbage",
      "last_sent x\nbounces_total -1\n",
      "last_sent\n",
      "last_sent 12abc\n",
      "corrupt_total 99999999999999999999999\n",
      "host\n",
      "host mx:25\n",
      "host  sent_total 5\n",
  };
  for (const char* text : cases) {
    Health h = Health::Parse(text);
    EXPECT_EQ(h.last_sent, 0) << text;
    EXPECT_EQ(h.bounces_total, 0u) << text;
    EXPECT_EQ(h.corrupt_total, 0u) << text;
    EXPECT_TRUE(h.hosts.empty()) << text;
  }
  Health h = Health::Parse(
      "host mx:25 failures x\nhost mx:25 auth_failing 2\nhost mx:25 sent_total -3\n"
      "host mx:25 unknown_key 5\nfuture_total 4\nhost mx:25 deferred_total 6");  // no final newline
  ASSERT_EQ(h.hosts.size(), 1u);
  EXPECT_EQ(h.hosts[0].failures, 0);
  EXPECT_FALSE(h.hosts[0].auth_failing);
  EXPECT_EQ(h.hosts[0].sent_total, 0u);
  EXPECT_EQ(h.hosts[0].deferred_total, 6u) << "a truncated last line still counts when whole";
}

TEST(Health, FindHostAddsOnceLookupNever) {
  Health h;
  EXPECT_EQ(LookupHost(h, "a:25"), nullptr);
  SmarthostHealth* a = FindHost(&h, "a:25");
  a->failures = 2;
  FindHost(&h, "b:25");
  EXPECT_EQ(FindHost(&h, "a:25")->failures, 2);
  EXPECT_EQ(h.hosts.size(), 2u);
  ASSERT_NE(LookupHost(h, "b:25"), nullptr);
  EXPECT_EQ(LookupHost(h, "c:25"), nullptr);
  EXPECT_EQ(h.hosts.size(), 2u);
}

TEST(Health, ClearTroubleKeepsCountersAndHistory) {
  SmarthostHealth s = FullHost("mx:25");
  s.ClearTrouble();
  EXPECT_FALSE(s.down());
  EXPECT_EQ(s.failures, 0);
  EXPECT_EQ(s.down_since, 0);
  EXPECT_EQ(s.pause_until, 0);
  EXPECT_EQ(s.pause_reason, "");
  EXPECT_EQ(s.deferred_total, 2u);
  EXPECT_EQ(s.last_error, "421 4.7.0 try later");
  EXPECT_EQ(s.token_expiry, 1700000000000009);
}

TEST(Health, LoadOfAMissingFileIsEmptySaveIsPrivate) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_EQ(::mkdir(paths.state().c_str(), 0700), 0);
  Health none = LoadHealth(paths);
  EXPECT_TRUE(none.hosts.empty());
  EXPECT_EQ(none.last_sent, 0);
  Health h;
  h.failed_total = 4;
  FindHost(&h, "mx:25")->sent_total = 9;
  ASSERT_TRUE(SaveHealth(paths, h).ok());
  struct stat st;
  ASSERT_EQ(::stat(paths.health_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Health back = LoadHealth(paths);
  EXPECT_EQ(back.failed_total, 4u);
  ASSERT_EQ(back.hosts.size(), 1u);
  EXPECT_EQ(back.hosts[0].sent_total, 9u);
  EXPECT_EQ(dir.List("state"), std::vector<std::string>{".health"})
      << "no temporary file is left behind";
}

TEST(Health, SaveFailsWithoutState) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path() + "/missing");
  Status s = SaveHealth(paths, Health());
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.temporary()) << s.message();
  EXPECT_FALSE(UpdateHealth(paths, [](Health*) {}).ok());
}

TEST(Health, ConcurrentUpdatesLoseNothing) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_EQ(::mkdir(paths.state().c_str(), 0700), 0);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&paths, t] {
      for (int i = 0; i < kEach; ++i)
        ASSERT_TRUE(UpdateHealth(paths, [t](Health* h) {
                      h->bounces_total++;
                      FindHost(h, "h" + std::to_string(t) + ":25")->sent_total++;
                    }).ok());
    });
  for (std::thread& t : threads) t.join();
  Health h = LoadHealth(paths);
  EXPECT_EQ(h.bounces_total, uint64_t{kThreads * kEach});
  ASSERT_EQ(h.hosts.size(), size_t{kThreads});
  for (const SmarthostHealth& s : h.hosts) EXPECT_EQ(s.sent_total, uint64_t{kEach}) << s.name;
}

TEST(Health, MergeRunAddsCountersAndKeepsTheLater) {
  Health stored;
  stored.bounces_total = 5;
  stored.last_sent = 100;
  SmarthostHealth* a = FindHost(&stored, "a:25");
  a->sent_total = 10;
  a->last_success = 100;
  a->token_expiry = 77;
  a->pause_until = 500;
  Health run;
  run.bounces_total = 2;
  run.corrupt_total = 1;
  run.failed_total = 3;
  run.delay_notices_total = 4;
  run.last_sent = 90;  // an earlier time never goes back
  SmarthostHealth* ra = FindHost(&run, "a:25");
  ra->sent_total = 3;
  ra->deferred_total = 1;
  ra->bounced_total = 2;
  ra->last_success = 200;
  FindHost(&run, "b:25")->deferred_total = 7;
  MergeRun(run, &stored);
  EXPECT_EQ(stored.bounces_total, 7u);
  EXPECT_EQ(stored.corrupt_total, 1u);
  EXPECT_EQ(stored.failed_total, 3u);
  EXPECT_EQ(stored.delay_notices_total, 4u);
  EXPECT_EQ(stored.last_sent, 100);
  ASSERT_EQ(stored.hosts.size(), 2u);
  EXPECT_EQ(stored.hosts[0].sent_total, 13u);
  EXPECT_EQ(stored.hosts[0].deferred_total, 1u);
  EXPECT_EQ(stored.hosts[0].bounced_total, 2u);
  EXPECT_EQ(stored.hosts[0].last_success, 200);
  EXPECT_EQ(stored.hosts[0].token_expiry, 77) << "token facts are not a run's to merge";
  EXPECT_EQ(stored.hosts[0].pause_until, 500) << "not reached in the run: the pause stays";
  EXPECT_EQ(stored.hosts[1].name, "b:25");
  EXPECT_EQ(stored.hosts[1].deferred_total, 7u);
}

TEST(Health, MergeRunFailuresAddUpUntilAHostIsReached) {
  Health stored;
  SmarthostHealth* a = FindHost(&stored, "a:25");
  a->failures = 2;
  a->down_since = 1000;
  a->last_error_time = 1000;
  a->last_error = "old";
  Health run;
  SmarthostHealth* r = FindHost(&run, "a:25");
  r->failures = 3;
  r->down_since = 2000;
  r->last_error_time = 2500;
  r->last_error = "connection refused";
  r->auth_failing = true;
  MergeRun(run, &stored);
  EXPECT_EQ(stored.hosts[0].failures, 5);
  EXPECT_EQ(stored.hosts[0].down_since, 1000) << "still down since the first failure";
  EXPECT_EQ(stored.hosts[0].last_error, "connection refused");
  EXPECT_TRUE(stored.hosts[0].auth_failing);

  Health up;  // reached, then failed once more in the same run
  SmarthostHealth* u = FindHost(&up, "a:25");
  u->last_reached = 3000;
  u->failures = 1;
  u->down_since = 3100;
  u->last_error_time = 3100;
  u->last_error = "421 busy";
  stored.hosts[0].pause_until = 9999;
  stored.hosts[0].pause_reason = "unreachable";
  MergeRun(up, &stored);
  EXPECT_EQ(stored.hosts[0].failures, 1);
  EXPECT_EQ(stored.hosts[0].down_since, 3100);
  EXPECT_EQ(stored.hosts[0].pause_until, 0) << "a success lifts the pause";
  EXPECT_EQ(stored.hosts[0].pause_reason, "");
  EXPECT_FALSE(stored.hosts[0].auth_failing);
  EXPECT_EQ(stored.hosts[0].last_reached, 3000);

  Health fine;
  FindHost(&fine, "a:25")->last_reached = 4000;
  MergeRun(fine, &stored);
  EXPECT_FALSE(stored.hosts[0].down());
  EXPECT_EQ(stored.hosts[0].down_since, 0);
  EXPECT_EQ(stored.hosts[0].last_error, "421 busy") << "the last error is history, kept";

  Health untried;  // a host the run never tried changes nothing
  FindHost(&untried, "a:25");
  stored.hosts[0].auth_failing = true;
  MergeRun(untried, &stored);
  EXPECT_TRUE(stored.hosts[0].auth_failing);
}

TEST(Health, KeepHostsFollowsTheConfiguredList) {
  Health h;
  FindHost(&h, "old:25")->sent_total = 1;
  FindHost(&h, "b:25")->sent_total = 2;
  KeepHosts({"a:25", "b:25", "a:25"}, &h);
  ASSERT_EQ(h.hosts.size(), 2u);
  EXPECT_EQ(h.hosts[0].name, "a:25");
  EXPECT_EQ(h.hosts[0].sent_total, 0u);
  EXPECT_EQ(h.hosts[1].name, "b:25");
  EXPECT_EQ(h.hosts[1].sent_total, 2u);
  KeepHosts({}, &h);
  EXPECT_TRUE(h.hosts.empty());
}

}  // namespace
}  // namespace relay
