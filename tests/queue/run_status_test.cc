// state/.status, the smarthost pause on relay-deliver's command line and
// the run report on its stdout: each encoder against its parser, and
// what the parsers refuse (run_status.h).
#include "relay/queue/run_status.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

TEST(RunStatus, RoundTripsAndKeepsTheErrorOnOneLine) {
  RunStatus st;
  st.last_sent = 1700000000123456;
  st.last_error_time = 1700000000654321;
  st.last_error = "smarthost said\r\nlast_sent 99";
  std::string text = st.Encode();
  EXPECT_EQ(text,
            "last_sent 1700000000123456\nlast_error_time 1700000000654321\n"
            "last_error smarthost said  last_sent 99\n");
  RunStatus back = RunStatus::Parse(text);
  EXPECT_EQ(back.last_sent, st.last_sent) << "a forged record in the error text is not read";
  EXPECT_EQ(back.last_error_time, st.last_error_time);
  EXPECT_EQ(back.last_error, "smarthost said  last_sent 99");
}

TEST(RunStatus, WhatCannotBeReadIsNever) {
  for (const char* text : {"", "garbage", "last_sent x\nlast_error_time -\n", "last_sent\n", "last_sent 12abc\n"}) {
    RunStatus st = RunStatus::Parse(text);
    EXPECT_EQ(st.last_sent, 0) << text;
    EXPECT_EQ(st.last_error_time, 0) << text;
    EXPECT_EQ(st.last_error, "") << text;
  }
  RunStatus none = RunStatus::Parse("last_sent 5\nlast_error_time 0\nlast_error \n");
  EXPECT_EQ(none.last_sent, 5);
  EXPECT_EQ(none.last_error, "");
  RunStatus old = RunStatus::Parse("last_sent 5\n");  // truncated
  EXPECT_EQ(old.last_sent, 5);
  EXPECT_EQ(old.last_error_time, 0);
}

TEST(RunStatus, MergeKeepsTheLaterOfEach) {
  RunStatus before = RunStatus::Parse("last_sent 100\nlast_error_time 200\nlast_error old\n");
  RunStatus run;  // this run sent nothing, failed later
  run.last_error_time = 300;
  run.last_error = "new";
  before.Merge(run);
  EXPECT_EQ(before.last_sent, 100);
  EXPECT_EQ(before.last_error_time, 300);
  EXPECT_EQ(before.last_error, "new");
  RunStatus quiet;  // a run with neither keeps everything
  quiet.last_error = "ignored without a time";
  before.Merge(quiet);
  EXPECT_EQ(before.last_error, "new");
  RunStatus sent;
  sent.last_sent = 400;
  before.Merge(sent);
  EXPECT_EQ(before.last_sent, 400);
  EXPECT_EQ(before.last_error_time, 300);
}

TEST(SmarthostPause, ArgsRoundTrip) {
  EXPECT_TRUE(SmarthostPause{}.ToArgs().empty()) << "no failures, no arguments";
  SmarthostPause p{3, 1700000000000000};
  std::vector<std::string> args = p.ToArgs();
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], "--site-failures");
  SmarthostPause back;
  ASSERT_TRUE(SmarthostPause::FromArgs(args[1], args[2], &back));
  EXPECT_EQ(back.failures, 3);
  EXPECT_EQ(back.until, 1700000000000000);
}

TEST(SmarthostPause, RefusesWhatIsNotANumber) {
  SmarthostPause p{7, 9};
  for (auto [n, until] : std::vector<std::pair<const char*, const char*>>{
           {"", "1"}, {"1", ""}, {"x", "1"}, {"1", "1x"}, {"-1", "1"}, {"1 ", "1"}, {"99999999999", "1"},
           {"1", "99999999999999999999"}}) {
    EXPECT_FALSE(SmarthostPause::FromArgs(n, until, &p)) << n << " " << until;
    EXPECT_EQ(p.failures, 7);
    EXPECT_EQ(p.until, 9);
  }
}

TEST(RunReport, RoundTrips) {
  RunReport r;
  r.next = -1;
  r.pause = {2, 1700000000000001};
  r.sent = 7;
  EXPECT_EQ(r.Encode(), "next -1 hold 1700000000000001 failures 2 sent 7\n");
  RunReport back;
  ASSERT_TRUE(RunReport::Parse(r.Encode(), &back));
  EXPECT_EQ(back.next, -1);
  EXPECT_EQ(back.pause.until, r.pause.until);
  EXPECT_EQ(back.pause.failures, 2);
  EXPECT_EQ(back.sent, 7u);
  ASSERT_TRUE(RunReport::Parse("next 5 hold 0 failures 0", &back)) << "no newline";
  EXPECT_EQ(back.next, 5);
  EXPECT_EQ(back.sent, 0u) << "an older relay-deliver's line: nothing sent";
  ASSERT_TRUE(RunReport::Parse("next 5 hold 0 failures 0 sent 3 later 9\n", &back)) << "a newer one's";
  EXPECT_EQ(back.sent, 3u);
}

TEST(RunReport, RefusesWhatIsNotAReport) {
  RunReport r;
  for (const char* text : {"", "\n", "next", "next 5 hold 0", "next 5 hold 0 failures", "next x hold 0 failures 0",
                           "hold 0 next 5 failures 0", "next 5 hold 0 failures 0 more",
                           "next 5 hold 0 failures 0 sent", "next 5 hold 0 failures 0 sent x", "next 5 hold 0 failures 0 sent -1",
                           "next 5 hold 0 failures 0  sent 1", "warning\nnext 5 hold 0 failures 0"})
    EXPECT_FALSE(RunReport::Parse(text, &r)) << text;
}

}  // namespace
}  // namespace relay
