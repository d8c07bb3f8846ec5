#include "relay/wire_form.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

// Feeds text in pieces of n bytes, so that every state crosses a boundary.
bool Check(const std::string& text, size_t n, std::string* err = nullptr) {
  WireFormCheck c;
  bool ok = true;
  for (size_t i = 0; ok && i < text.size(); i += n) ok = c.Feed(std::string_view(text).substr(i, n));
  if (ok) ok = c.Finish();
  if (err) *err = c.error();
  return ok;
}

TEST(WireForm, AcceptsWhatTheInjectorWrites) {
  for (size_t n : {1, 2, 3, 7, 1000}) {
    EXPECT_TRUE(Check("", n));
    EXPECT_TRUE(Check("Subject: x\r\n\r\nbody\r\n", n));
    EXPECT_TRUE(Check("..\r\n..leading dot\r\n...\r\n", n));
    EXPECT_TRUE(Check("\r\n\r\n", n));
    EXPECT_TRUE(Check("a.b\r\n x.\r\n", n));
  }
}

TEST(WireForm, RefusesEveryForgery) {
  struct Case {
    const char* text;
    const char* why;
  } cases[] = {
      {"a\r\n.\r\nMAIL FROM:<x@y>\r\n", "not doubled"},   // the smuggled transaction
      {".\r\n", "not doubled"},
      {"a\r\n.x\r\n", "not doubled"},
      {"a\r\n.", "not doubled"},
      {"a\nb\r\n", "bare LF"},
      {"a\r\n\n", "bare LF"},
      {"a\rb\r\n", "bare CR"},
      {"a\r\r\n", "bare CR"},
      {"a\r\n.\r", "not doubled"},
      {"abc", "CRLF"},
      {"abc\r", "CRLF"},
  };
  for (const Case& c : cases) {
    for (size_t n : {1, 2, 3, 1000}) {
      std::string err;
      EXPECT_FALSE(Check(c.text, n, &err)) << c.text << " in pieces of " << n;
      EXPECT_NE(err.find(c.why), std::string::npos) << err;
    }
  }
}

TEST(WireForm, StaysFailed) {
  WireFormCheck c;
  EXPECT_FALSE(c.Feed("a\nb"));
  EXPECT_FALSE(c.Feed("ok\r\n"));
  EXPECT_FALSE(c.Finish());
}

}  // namespace
}  // namespace relay
