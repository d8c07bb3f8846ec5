#include "relay/message/wire_form.h"

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

// The rules written the plainest way, over the whole text at once.
bool Reference(const std::string& s) {
  for (size_t k = 0; k < s.size(); ++k) {
    bool line_start = k == 0 || s[k - 1] == '\n';
    if (s[k] == '\r' && (k + 1 == s.size() || s[k + 1] != '\n')) return false;
    if (s[k] == '\n' && (k == 0 || s[k - 1] != '\r')) return false;
    if (s[k] == '.' && line_start && (k + 1 == s.size() || s[k + 1] != '.')) return false;
  }
  return s.empty() || s.compare(s.size() - 2, 2, "\r\n") == 0;
}

// The streaming check (memchr per line, LFs counted 16 bytes at a time)
// against the reference: many strings of the bytes that matter (CR, LF,
// dot, other), long enough to cross the 16-byte blocks, cut into pieces
// of every awkward size.
TEST(WireForm, PiecesAgreeWithAReference) {
  const char alphabet[] = {'a', '\r', '\n', '.'};
  uint32_t seed = 1;
  int passed = 0, failed = 0;
  for (int round = 0; round < 40000; ++round) {
    std::string text;
    seed = seed * 1103515245u + 12345u;
    size_t len = 17 + (seed >> 16) % 60;
    for (size_t k = 0; k < len; ++k) {
      seed = seed * 1103515245u + 12345u;
      // Mostly well-formed lines, so that faults land anywhere in a block.
      uint32_t r = (seed >> 16) % 100;
      if (r < 75) text += 'a';
      else if (r < 92) text += "\r\n";
      else if (r < 99) text += "..";
      else text += alphabet[seed % 4];
    }
    if (round % 2) text += "\r\n";
    std::string err;
    bool want = Reference(text);
    (want ? passed : failed)++;
    for (size_t n : {1, 2, 3, 15, 16, 17, 33, 1000}) {
      ASSERT_EQ(Check(text, n, &err), want) << testing::PrintToString(text) << " in pieces of " << n;
      if (!want) {
        EXPECT_FALSE(err.empty());
      }
    }
  }
  // Both verdicts were compared many times, not just one.
  EXPECT_GT(passed, 5000);
  EXPECT_GT(failed, 5000);
}

// The injector never writes NUL (RFC 5321 2.3.8: no NUL in SMTP text); a
// NUL in queue content was forged, wherever it is in a line or a piece.
TEST(WireForm, RefusesNul) {
  const std::string cases[] = {
      std::string("a\0b\r\n", 5),   std::string("\0\r\n", 3),        std::string("ab\0\r\n", 5),
      std::string("a\r\n\0", 4),    std::string("a\r\n..\0\r\n", 8), std::string("Subject: x\r\n\r\nbody\0", 19),
      std::string("\0", 1),
  };
  for (const std::string& text : cases) {
    for (size_t n : {1, 2, 3, 1000}) {
      std::string err;
      EXPECT_FALSE(Check(text, n, &err)) << testing::PrintToString(text) << " in pieces of " << n;
      EXPECT_NE(err.find("a NUL byte"), std::string::npos) << testing::PrintToString(text) << ": " << err;
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
