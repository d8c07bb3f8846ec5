// The string helpers the state-file parsers share (strings.h): pure.
#include "relay/base/strings.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace relay {
namespace {

TEST(Strings, WholeNumberTakesAllOfItOrNothing) {
  int64_t v = 7;
  EXPECT_TRUE(WholeNumber("1764000000000000", &v));
  EXPECT_EQ(v, 1764000000000000);
  EXPECT_TRUE(WholeNumber("-5", &v));
  EXPECT_EQ(v, -5);
  for (const char* bad : {"", " 1", "1 ", "12x", "+1", "0x10", "9223372036854775808", "-"}) {
    v = 7;
    EXPECT_FALSE(WholeNumber(bad, &v)) << "'" << bad << "'";
    EXPECT_EQ(v, 7) << "untouched after '" << bad << "'";
  }
  uint32_t u = 3;
  EXPECT_FALSE(WholeNumber("-1", &u)) << "no sign for an unsigned type";
  EXPECT_FALSE(WholeNumber("4294967296", &u)) << "out of range";
  EXPECT_EQ(u, 3u);
  double d = 0;
  EXPECT_TRUE(WholeNumber("0.25", &d));
  EXPECT_EQ(d, 0.25);
}

TEST(Strings, NextWordSplitsAtTheFirstSpace) {
  std::string_view rest = "key value with spaces";
  EXPECT_EQ(NextWord(&rest), "key");
  EXPECT_EQ(rest, "value with spaces");
  rest = "alone";
  EXPECT_EQ(NextWord(&rest), "alone");
  EXPECT_EQ(rest, "");
  rest = " lead";
  EXPECT_EQ(NextWord(&rest), "");
  EXPECT_EQ(rest, "lead");
}

}  // namespace
}  // namespace relay
