// Counting the spool's parts and what `--max-age` calls stuck
// (queue_summary.h).
#include "relay/queue/queue_summary.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "relay/queue/queue_id.h"
#include "../testutil/temp_dir.h"

namespace relay {
namespace {

constexpr int64_t kNow = 1700000000000000;
constexpr int64_t kSec = 1000000;

std::string Id(int64_t age_seconds) { return MakeQueueId(kNow - age_seconds * kSec, 7); }

TEST(QueueSummary, OnlyQueueIdsCountAndTheSmallestIsOldest) {
  DirSummary s = SummarizeNames({Id(5), Id(50) + ".state", ".flush", "junk", Id(20), Id(1)});
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.oldest, Id(20));
  EXPECT_EQ(s.OldestAgeSeconds(kNow), 20);
  DirSummary none = SummarizeNames({".wake", "x"});
  EXPECT_EQ(none.count, 0u);
  EXPECT_EQ(none.OldestAgeSeconds(kNow), 0);
  EXPECT_FALSE(none.OlderThan(kNow, 0));
}

TEST(QueueSummary, AsideNamesAreCorruptEntries) {
  DirSummary s = SummarizeAside({Id(5), Id(9) + ".corrupt", ".corrupt", "x.corrupt", Id(3) + ".corrupt.corrupt"});
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.oldest, Id(9));
}

TEST(QueueSummary, StuckNamesEachPartOlderThanMaxAge) {
  struct {
    int64_t queued, held, failed;  // age of the oldest, -1: empty
    std::vector<std::string> stuck;
  } cases[] = {
      {-1, -1, -1, {}},
      {10, 10, 10, {}},
      {61, -1, -1, {"queued"}},
      {-1, 61, -1, {"held"}},
      {-1, -1, 61, {"failed"}},
      {60, 61, 3600, {"held", "failed"}},
      {61, 61, 61, {"queued", "held", "failed"}},
  };
  for (const auto& c : cases) {
    QueueSummary q;
    auto set = [](int64_t age, DirSummary* d) {
      if (age >= 0) *d = SummarizeNames({Id(age)});
    };
    set(c.queued, &q.queued);
    set(c.held, &q.held);
    set(c.failed, &q.failed);
    q.corrupt = SummarizeNames({Id(99999)});  // never stuck: evidence, not mail
    EXPECT_EQ(q.Stuck(kNow, 60), c.stuck) << c.queued << " " << c.held << " " << c.failed;
  }
}

TEST(QueueSummary, AFutureIdIsNotOld) {
  DirSummary s = SummarizeNames({MakeQueueId(kNow + 100 * kSec, 1)});
  EXPECT_EQ(s.OldestAgeSeconds(kNow), 0);
}

TEST(QueueSummary, ReadsTheSpool) {
  testing::TempDir dir;
  SpoolPaths p(dir.path());
  QueueSummary q;
  EXPECT_TRUE(ReadQueueSummary(p, &q).ok()) << "no spool yet counts 0";
  EXPECT_EQ(q.queued.count, 0u);
  for (const std::string& d : {p.queue(), p.hold(), p.failed(), p.corrupt()}) ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  auto touch = [](const std::string& path) { std::ofstream(path) << "x"; };
  touch(p.queue_file(Id(3)));
  touch(p.queue_file(Id(4)));
  touch(p.queue_file(".flush"));
  touch(p.corrupt_aside_file(Id(8)));
  touch(p.hold_file(Id(5)));
  touch(p.failed_file(Id(6)));
  touch(p.failed_state_file(Id(6)));
  touch(p.corrupt_file(Id(7)));
  ASSERT_TRUE(ReadQueueSummary(p, &q).ok());
  EXPECT_EQ(q.queued.count, 2u);
  EXPECT_EQ(q.queued.oldest, Id(4));
  EXPECT_EQ(q.held.count, 1u);
  EXPECT_EQ(q.failed.count, 1u);
  EXPECT_EQ(q.failed.oldest, Id(6));
  EXPECT_EQ(q.corrupt.count, 2u);
  EXPECT_EQ(q.corrupt.oldest, Id(8));
}

}  // namespace
}  // namespace relay
