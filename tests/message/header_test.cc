#include "relay/message/header.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace relay {
namespace {

using namespace std::string_literals;

struct StartCase {
  std::string line;
  bool is_start;
  size_t name_size;
};

TEST(Header, IsHeaderStart) {
  const StartCase cases[] = {
      {"To: a@x", true, 2},
      {"To:a@x", true, 2},
      {"To:", true, 2},
      {"Subject: hi: there", true, 7},
      {"To : a@x", true, 2},
      {"To\t: a@x", true, 2},
      {"To \t  :", true, 2},
      {"X-Mailer: PHP/8.2", true, 8},
      {"Content-Type: text/plain", true, 12},
      {"!#$%&'*+-/=?^_`{|}~\"(),.;<>@[\\]: v", true, 31},
      {"a:", true, 1},
      // Not header fields.
      {"", false, 0},
      {":", false, 0},
      {": no name", false, 0},
      {" To: folded", false, 0},
      {"\tTo: folded", false, 0},
      {"To", false, 0},
      {"To ", false, 0},
      {"To  \t", false, 0},
      {"To x: y", false, 0},
      {"From someone@example.com Tue Nov 24 19:30:00 2026", false, 0},
      {"Hello world.", false, 0},
      {"T\xc3\xb6: x", false, 0},
      {"\xc3\xb6: x", false, 0},
      {"To\x7f: x", false, 0},
      {"To\x01: x", false, 0},
      {"To\r\n: x", false, 0},
      {"To\0: x"s, false, 0},
  };
  for (const StartCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.line));
    size_t n = 12345;
    EXPECT_EQ(IsHeaderStart(c.line, &n), c.is_start);
    EXPECT_EQ(n, c.is_start ? c.name_size : 12345u) << "(12345: name_size left alone)";
  }
}

TEST(Header, IsContinuation) {
  EXPECT_TRUE(IsContinuation(" x"));
  EXPECT_TRUE(IsContinuation("\tx"));
  EXPECT_TRUE(IsContinuation(" "));
  EXPECT_FALSE(IsContinuation(""));
  EXPECT_FALSE(IsContinuation("x "));
  EXPECT_FALSE(IsContinuation("\r\n"));
}

struct FieldCase {
  std::string text;
  std::string name;
  std::string raw_value;
  std::string unfolded;
};

TEST(Header, FieldAccessors) {
  const FieldCase cases[] = {
      {"Subject: hello", "Subject", " hello", " hello"},
      {"Subject:hello", "Subject", "hello", "hello"},
      {"Subject:", "Subject", "", ""},
      {"To : a@x", "To", " a@x", " a@x"},
      {"To\t:\ta@x", "To", "\ta@x", "\ta@x"},
      {"Subject: a: b", "Subject", " a: b", " a: b"},
      {"Subject: one\n two\n\tthree", "Subject", " one\n two\n\tthree", " one two\tthree"},
      {"Subject: one\r\n two", "Subject", " one\r\n two", " one two"},
      {"To: a@x,\n b@y", "To", " a@x,\n b@y", " a@x, b@y"},
      {"Subject:\n folded start", "Subject", "\n folded start", " folded start"},
  };
  for (const FieldCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.text));
    HeaderField f;
    f.text = c.text;
    ASSERT_TRUE(IsHeaderStart(c.text, &f.name_size));
    EXPECT_EQ(f.name(), c.name);
    EXPECT_EQ(f.raw_value(), c.raw_value);
    EXPECT_EQ(f.Unfolded(), c.unfolded);
  }
}

TEST(Header, FieldIs) {
  HeaderField f;
  f.text = "Content-TYPE : text/plain";
  ASSERT_TRUE(IsHeaderStart(f.text, &f.name_size));
  EXPECT_TRUE(f.Is("content-type"));
  EXPECT_TRUE(f.Is("Content-Type"));
  EXPECT_TRUE(f.Is("CONTENT-TYPE"));
  EXPECT_FALSE(f.Is("Content"));
  EXPECT_FALSE(f.Is("Content-Type "));
  EXPECT_FALSE(f.Is("Content-Types"));
  EXPECT_FALSE(f.Is(""));
}

struct DateCase {
  time_t t;
  long gmtoff;
  const char* want;
};

TEST(Header, FormatRfc5322Date) {
  const DateCase cases[] = {
      {0, 0, "Thu, 1 Jan 1970 00:00:00 +0000"},
      {-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"},
      {1795545000, 3600, "Tue, 24 Nov 2026 19:30:00 +0100"},
      {1795545000, 0, "Tue, 24 Nov 2026 18:30:00 +0000"},
      {1795545000, -18000, "Tue, 24 Nov 2026 13:30:00 -0500"},
      {1795545000, -36000, "Tue, 24 Nov 2026 08:30:00 -1000"},
      // Half- and quarter-hour zones, east and west.
      {1795545000, 19800, "Wed, 25 Nov 2026 00:00:00 +0530"},
      {1795545000, 20700, "Wed, 25 Nov 2026 00:15:00 +0545"},
      {1795545000, 45900, "Wed, 25 Nov 2026 07:15:00 +1245"},
      {1795545000, -12600, "Tue, 24 Nov 2026 15:00:00 -0330"},
      {1795545000, -1800, "Tue, 24 Nov 2026 18:00:00 -0030"},
      // Leap days and the turn of a year in a zone but not in UTC.
      {951782400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"},
      {1709164800, 0, "Thu, 29 Feb 2024 00:00:00 +0000"},
      {1767225599, 0, "Wed, 31 Dec 2025 23:59:59 +0000"},
      {1767225599, 3600, "Thu, 1 Jan 2026 00:59:59 +0100"},
  };
  for (const DateCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.t) + " " + std::to_string(c.gmtoff));
    EXPECT_EQ(FormatRfc5322Date(c.t, c.gmtoff), c.want);
  }
}

struct NameCase {
  std::string name;
  std::string want;
};

TEST(Header, EncodeDisplayName) {
  const NameCase cases[] = {
      // Atoms (and spaces between them) stay as they are.
      {"", ""},
      {"John", "John"},
      {"John Smith", "John Smith"},
      {"CronDaemon", "CronDaemon"},
      {"Mr. Smith", "\"Mr. Smith\""},
      {"o'brien+tag", "o'brien+tag"},
      {"!#$%&'*+-/=?^_`{|}~", "!#$%&'*+-/=?^_`{|}~"},
      // Specials make a quoted string; '"' and '\' are escaped.
      {"Smith, John", "\"Smith, John\""},
      {"John Q. Public", "\"John Q. Public\""},
      {"root@host", "\"root@host\""},
      {"a<b>", "\"a<b>\""},
      {"(comment)", "\"(comment)\""},
      {"a:b;c", "\"a:b;c\""},
      {"[x]", "\"[x]\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"\"", "\"\\\"\""},
      // Leading or trailing space would be lost in an unquoted phrase.
      {" John", "\" John\""},
      {"John ", "\"John \""},
      {"   ", "\"   \""},
      // Non-ASCII: UTF-8 in base64 encoded words.
      {"J\xc3\xb6rg", "=?UTF-8?B?SsO2cmc=?="},
      {"J\xc3\xb6rg M\xc3\xbcller", "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?="},
      {"Zo\xc3\xab \"Z\" O'Brien, Esq.", "=?UTF-8?B?Wm/DqyAiWiIgTydCcmllbiwgRXNxLg==?="},
      // Control characters cannot go out raw either, least of all CR LF.
      {"\t", "=?UTF-8?B?CQ==?="},
      {"Evil\r\nBcc: x@y", "=?UTF-8?B?RXZpbA0KQmNjOiB4QHk=?="},
      // Long names: several words of at most 75 characters, cut between
      // characters (2-, 3- and 4-byte ones).
      {std::string(50, 'a') + "\xc3\xa9",
       "=?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?= =?UTF-8?B?YWFhYWHDqQ==?="},
  };
  for (const NameCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.name));
    EXPECT_EQ(EncodeDisplayName(c.name), c.want);
  }
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Header, EncodeDisplayNameSplitsOnCharacterBoundaries) {
  const NameCase cases[] = {
      // 30 two-byte characters: 60 bytes; 45 would cut the 23rd in half.
      {Repeat("\xc3\xa9", 30),
       "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?= "
       "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqQ==?="},
      // 30 three-byte characters: exactly 45 bytes a word.
      {Repeat("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 10),
       "=?UTF-8?B?5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe?= "
       "=?UTF-8?B?5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe?="},
      // 12 four-byte characters: 48 bytes; 45 would cut the 12th.
      {Repeat("\xf0\x9f\x98\x80", 12),
       "=?UTF-8?B?8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIDwn5iA8J+YgPCfmIA=?= =?UTF-8?B?8J+YgA==?="},
  };
  for (const NameCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.name));
    EXPECT_EQ(EncodeDisplayName(c.name), c.want);
  }
}

// Decodes base64 (no error handling beyond what the test needs).
std::string DecodeBase64(std::string_view in) {
  static const std::string kTab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t d = kTab.find(c);
    if (d == std::string::npos) return "<bad base64>";
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return out;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

TEST(Header, EncodedWordsDecodeToTheName) {
  const std::string names[] = {
      Repeat("\xc3\xa9", 1),  Repeat("\xc3\xa9", 22),  Repeat("\xc3\xa9", 23),
      Repeat("\xc3\xa9", 200), Repeat("x\xe2\x82\xac", 40), Repeat("\xf0\x9f\x98\x80" "ab", 37),
      "Fran\xc3\xa7ois " + std::string(120, 'z'),
  };
  for (const std::string& name : names) {
    SCOPED_TRACE(testing::PrintToString(name));
    std::string enc = EncodeDisplayName(name);
    std::string decoded;
    size_t pos = 0;
    while (pos <= enc.size()) {
      size_t sp = enc.find(' ', pos);
      std::string_view word = std::string_view(enc).substr(pos, sp == std::string::npos ? sp : sp - pos);
      EXPECT_LE(word.size(), 75u) << word;
      ASSERT_EQ(word.substr(0, 10), "=?UTF-8?B?");
      ASSERT_EQ(word.substr(word.size() - 2), "?=");
      std::string part = DecodeBase64(word.substr(10, word.size() - 12));
      EXPECT_TRUE(ValidUtf8(part)) << "word " << word << " does not decode on its own";
      decoded += part;
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
    EXPECT_EQ(decoded, name);
  }
}

struct GecosCase {
  std::string gecos;
  std::string login;
  std::string want;
};

TEST(Header, FullNameFromGecos) {
  const GecosCase cases[] = {
      {"John Smith", "jsmith", "John Smith"},
      {"John Smith,Room 101,555-1234,555-4321,other", "jsmith", "John Smith"},
      {"John Smith,,,", "jsmith", "John Smith"},
      {"& Smith", "john", "John Smith"},
      {"&", "root", "Root"},
      {"Mr. &,x", "bob", "Mr. Bob"},
      {"& & &", "ab", "Ab Ab Ab"},
      {"&", "Bob", "Bob"},
      {"&", "1st", "1st"},
      {"&", "", ""},
      {"", "root", ""},
      {",,,", "root", ""},
      {",& Smith", "john", ""},
      {"  Padded Name  ,x", "u", "Padded Name"},
      {"root", "root", "root"},
      {"Zo\xc3\xab", "zoe", "Zo\xc3\xab"},
  };
  for (const GecosCase& c : cases) {
    SCOPED_TRACE(c.gecos + " / " + c.login);
    EXPECT_EQ(FullNameFromGecos(c.gecos, c.login), c.want);
  }
}

}  // namespace
}  // namespace relay
