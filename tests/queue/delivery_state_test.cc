#include "relay/queue/delivery_state.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

TEST(DeliveryState, RoundTrip) {
  DeliveryState s;
  s.attempts = 3;
  s.next_attempt_micros = 1795548364000000;
  s.rcpts = {{RcptStatus::Kind::kDone, "", ""},
             {RcptStatus::Kind::kPending, "4.7.0", "451 4.7.0 try later"},
             {RcptStatus::Kind::kBounced, "", ""},
             {RcptStatus::Kind::kPending, "", ""}};
  std::string text = EncodeState(s);
  EXPECT_EQ(text,
            "relay-state 1\nattempts 3\nnext 1795548364000000\nrcpt 0 done\n"
            "rcpt 1 deferred 4.7.0 451 4.7.0 try later\nrcpt 2 bounced\n");
  DeliveryState back;
  ASSERT_TRUE(ParseState(text, 4, &back).ok());
  EXPECT_EQ(back.attempts, 3);
  EXPECT_EQ(back.next_attempt_micros, s.next_attempt_micros);
  EXPECT_EQ(back.rcpts[0].kind, RcptStatus::Kind::kDone);
  EXPECT_EQ(back.rcpts[1].kind, RcptStatus::Kind::kPending);
  EXPECT_EQ(back.rcpts[1].reason, "451 4.7.0 try later");
  EXPECT_EQ(back.rcpts[2].kind, RcptStatus::Kind::kBounced);
  EXPECT_EQ(back.pending(), 2u);
}

TEST(DeliveryState, DelayWarnedIsKept) {
  DeliveryState s;
  s.rcpts = {{RcptStatus::Kind::kPending, "4.4.1", "connect failed"}};
  EXPECT_EQ(EncodeState(s).find("delay_warned"), std::string::npos) << "absent unless sent";
  s.delay_warned = true;
  std::string text = EncodeState(s);
  EXPECT_NE(text.find("\ndelay_warned 1\n"), std::string::npos) << text;
  DeliveryState back;
  ASSERT_TRUE(ParseState(text, 1, &back).ok());
  EXPECT_TRUE(back.delay_warned);
  ASSERT_TRUE(ParseState("relay-state 1\nattempts 1\n", 1, &back).ok());
  EXPECT_FALSE(back.delay_warned);
  for (const char* bad : {"relay-state 1\ndelay_warned 0\n", "relay-state 1\ndelay_warned\n",
                          "relay-state 1\ndelay_warned yes\n"})
    EXPECT_FALSE(ParseState(bad, 1, &back).ok()) << bad;
}

TEST(DeliveryState, ReasonsCannotForgeRecords) {
  DeliveryState s;
  s.rcpts = {{RcptStatus::Kind::kPending, "4.0.0", "evil\nrcpt 0 done"}};
  DeliveryState back;
  ASSERT_TRUE(ParseState(EncodeState(s), 1, &back).ok());
  EXPECT_EQ(back.rcpts[0].kind, RcptStatus::Kind::kPending);
}

TEST(DeliveryState, Errors) {
  const char* errors[] = {
      "", "relay-state 2\n", "relay-state 1\nrcpt 5 done\n", "relay-state 1\nrcpt 0 maybe\n",
      "relay-state 1\nattempts x\n", "relay-state 1\nbogus 1\n",
  };
  for (const char* e : errors) {
    DeliveryState s;
    EXPECT_FALSE(ParseState(e, 2, &s).ok()) << e;
  }
}

TEST(RetryPolicy, ExponentialCappedWithJitter) {
  struct Case {
    int attempts;
    double jitter;
    int64_t want;
  };
  const Case cases[] = {
      {1, 0.5, 300},   {2, 0.5, 600},  {3, 0.5, 1200}, {4, 0.5, 2400},
      {5, 0.5, 3600},  {50, 0.5, 3600}, {1, 0.0, 300},  // never below retry_min
      {3, 0.0, 960},   {3, 0.999, 1439}, {9, 1.0, 3600},  // never above retry_max
  };
  for (const Case& c : cases)
    EXPECT_EQ(RetryDelaySeconds(c.attempts, 300, 3600, c.jitter), c.want)
        << c.attempts << " " << c.jitter;
}

}  // namespace
}  // namespace relay
