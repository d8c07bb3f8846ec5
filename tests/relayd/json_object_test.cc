#include "relay/relayd/json_object.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

TEST(JsonObject, EveryByteIsEncoded) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"", "\"\""},
      {"plain text", "\"plain text\""},
      {"\"", "\"\\\"\""},
      {"\\", "\"\\\\\""},
      {"/", "\"/\""},
      {"\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\""},
      {std::string("\0", 1), "\"\\u0000\""},
      {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
      {"\x1b[31m", "\"\\u001b[31m\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},                      // valid 2 bytes
      {"\xe2\x82\xac", "\"\xe2\x82\xac\""},                    // valid 3 bytes
      {"\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\""},            // valid 4 bytes
      {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},                    // U+FFFD itself
      {"\x80", "\"\\ufffd\""},                                 // stray continuation
      {"\xbf\x80", "\"\\ufffd\\ufffd\""},
      {"\xc3", "\"\\ufffd\""},                                 // cut short at the end
      {"\xc3x", "\"\\ufffdx\""},                               // cut short by ASCII
      {"\xe2\x82", "\"\\ufffd\\ufffd\""},
      {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                      // overlong '/'
      {"\xc1\xbf", "\"\\ufffd\\ufffd\""},
      {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},           // overlong, 3 bytes
      {"\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},  // overlong, 4 bytes
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},           // a surrogate
      {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},  // above U+10FFFF
      {"\xf5\x80", "\"\\ufffd\\ufffd\""},
      {"\xfe\xff", "\"\\ufffd\\ufffd\""},
      {"a\xff\"b", "\"a\\ufffd\\\"b\""},
  };
  for (const Case& c : cases) EXPECT_EQ(JsonQuote(c.in), c.out) << c.in;
}

// Every single byte value gives printable ASCII or valid UTF-8 between
// the quotes, and never a raw control byte, quote or backslash.
TEST(JsonObject, NoByteEscapes) {
  for (int b = 0; b < 256; ++b) {
    std::string q = JsonQuote(std::string(1, static_cast<char>(b)));
    ASSERT_GE(q.size(), 3u);
    std::string inner = q.substr(1, q.size() - 2);
    if (inner[0] == '\\') {
      EXPECT_TRUE(inner.size() == 2 || inner.size() == 6) << b << " " << q;
      continue;
    }
    EXPECT_EQ(inner.size(), 1u) << b;
    EXPECT_GE(static_cast<unsigned char>(inner[0]), 0x20) << b;
    EXPECT_LT(static_cast<unsigned char>(inner[0]), 0x7f) << b;
    EXPECT_NE(inner[0], '"');
  }
}

TEST(JsonObject, FlatObject) {
  JsonObject o;
  o.Add("kind", "bounce").Add("count", int64_t{-3}).AddBool("ok", true).Add("k\"ey", "v");
  EXPECT_EQ(o.Text(), "{\"kind\": \"bounce\", \"count\": -3, \"ok\": true, \"k\\\"ey\": \"v\"}");
  EXPECT_EQ(JsonObject().Text(), "{}");
}

}  // namespace
}  // namespace relay
