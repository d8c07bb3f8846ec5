#include "relay/queue/queue_id.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace relay {
namespace {

using namespace std::string_literals;

constexpr int64_t kNow = 1795545000123456;       // 2026-11-24 18:30:00.123456 UTC
constexpr int64_t kMaxMicros = (int64_t{1} << 52) - 1;  // 13 hex digits

struct MakeCase {
  int64_t micros;
  uint32_t salt;
  const char* want;
};

TEST(QueueId, MakeQueueId) {
  const MakeCase cases[] = {
      {0, 0, "0000000000000000000"},
      {1, 1, "0000000000001000001"},
      {kNow, 0, "66109E5E91C40000000"},
      {kNow, 123456789, "66109E5E91C403LNJ8L"},
      {kMaxMicros, (1u << 30) - 1, "FFFFFFFFFFFFFVVVVVV"},
      // Only 30 bits of salt fit in six base-32 digits.
      {kNow, 0xFFFFFFFFu, "66109E5E91C40VVVVVV"},
  };
  for (const MakeCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.micros) + " " + std::to_string(c.salt));
    std::string id = MakeQueueId(c.micros, c.salt);
    EXPECT_EQ(id, c.want);
    EXPECT_EQ(id.size(), kQueueIdLength);
    EXPECT_TRUE(IsQueueId(id));
  }
}

TEST(QueueId, OrderIsArrivalOrder) {
  // Later arrivals sort after earlier ones whatever the salts, including
  // across digit-to-letter boundaries ('9' < 'A').
  const int64_t times[] = {0, 1, 9, 10, 15, 16, 159, 160, 1000000, kNow - 1, kNow, kNow + 1,
                           0x9FFFFFFFFFFFF, 0xA000000000000, kMaxMicros};
  const uint32_t salts[] = {0, 1, 31, 32, 0x3FFFFFFF, 12345678};
  for (size_t i = 0; i + 1 < std::size(times); ++i) {
    for (uint32_t s1 : salts) {
      for (uint32_t s2 : salts) {
        std::string a = MakeQueueId(times[i], s1);
        std::string b = MakeQueueId(times[i + 1], s2);
        EXPECT_LT(a, b) << times[i] << "/" << s1 << " vs " << times[i + 1] << "/" << s2;
      }
    }
  }
  // In the same microsecond, the salt decides, and different salts differ.
  std::vector<std::string> ids;
  for (uint32_t s = 0; s < 2000; ++s) ids.push_back(MakeQueueId(kNow, s));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST(QueueId, SortingIdsSortsByTime) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<int64_t, std::string>> v;
  for (int i = 0; i < 1000; ++i) {
    int64_t t = static_cast<int64_t>(rng() & static_cast<uint64_t>(kMaxMicros));
    v.emplace_back(t, MakeQueueId(t, static_cast<uint32_t>(rng())));
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (size_t i = 0; i + 1 < v.size(); ++i) EXPECT_LE(v[i].first, v[i + 1].first);
}

TEST(QueueId, IsQueueId) {
  const std::string accept[] = {
      "0000000000000000000",
      "66109E5E91C403LNJ8L",
      "FFFFFFFFFFFFFVVVVVV",
      "0123456789ABCDEFGHI",
      "ABCDEF0123456JKLMNO",
      "0000000000000PQRSTU",
  };
  for (const std::string& s : accept) EXPECT_TRUE(IsQueueId(s)) << s;

  const std::string reject[] = {
      "",
      // Wrong length.
      "66109E5E91C403LNJ8",
      "66109E5E91C403LNJ8LL",
      "0",
      std::string(38, '0'),
      // Lower case.
      "66109e5e91c403lnj8l",
      "66109E5E91C403LNJ8l",
      "a6109E5E91C403LNJ8L",
      // Beyond 'F' in the time part.
      "G6109E5E91C403LNJ8L",
      "66109E5E91C4G03LNJ8",
      "6610ZE5E91C403LNJ8L",
      "66109E5E91C4W03LNJ8",
      // Beyond 'V' in the salt part.
      "66109E5E91C40W00000",
      "66109E5E91C4000000Z",
      "66109E5E91C40X00000",
      // Path tricks and other characters.
      "../../../etc/passwd",
      "66109E5E91C4/..0000",
      "66109E5E91C40..0000",
      "66109E5E91C40/00000",
      "/6109E5E91C403LNJ8L",
      "66109E5E91C403LNJ8.",
      ".66109E5E91C403LNJ8",
      "66109E5E91C403LNJ8 ",
      "66109E5E91C403LNJ8-",
      "66109E5E91C403LNJ8\n",
      "66109E5E91C403LNJ8\0"s,
      "66109E5E91C4\xc3\xa9LNJ8L",
      "tmp.66109E5E91C403L",
  };
  for (const std::string& s : reject) EXPECT_FALSE(IsQueueId(s)) << testing::PrintToString(s);
}

TEST(QueueId, MicrosRoundTrip) {
  const int64_t times[] = {0, 1, 15, 16, 1000000, kNow, 0x9FFFFFFFFFFFF, 0xA000000000000, kMaxMicros};
  for (int64_t t : times) {
    for (uint32_t salt : {0u, 1u, 0x3FFFFFFFu}) {
      std::string id = MakeQueueId(t, salt);
      EXPECT_EQ(QueueIdMicros(id), t) << id;
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    int64_t t = static_cast<int64_t>(rng() & static_cast<uint64_t>(kMaxMicros));
    EXPECT_EQ(QueueIdMicros(MakeQueueId(t, static_cast<uint32_t>(rng()))), t);
  }
  EXPECT_EQ(QueueIdMicros("66109E5E91C40000000"), kNow);
}

TEST(QueueId, Salt) {
  // 30 bits: the pid's low 22 bits above 8 random bits.
  for (int i = 0; i < 100; ++i) {
    uint32_t s = QueueIdSalt();
    EXPECT_LT(s, 1u << 30);
    EXPECT_EQ(s >> 8, static_cast<uint32_t>(getpid()) & 0x3FFFFF);
    EXPECT_TRUE(IsQueueId(MakeQueueId(kNow, s)));
  }
}

TEST(QueueId, NewQueueIdsOfOneProcessWithinAMicrosecondDiffer) {
  // 256 IDs of the same microsecond: every one well-formed, carrying that
  // time, and no two alike (random bits alone would clash, and so did a
  // count shifted into the pid's bits).
  std::set<std::string> seen;
  for (int i = 0; i < 256; ++i) {
    std::string id = NewQueueId(kNow);
    EXPECT_TRUE(IsQueueId(id)) << id;
    EXPECT_EQ(QueueIdMicros(id), kNow);
    EXPECT_TRUE(seen.insert(id).second) << id << " twice";
  }
}

}  // namespace
}  // namespace relay
