// The spool's layout (SpoolPaths, spool.h) and the queue operations
// (operations.h) on a spool in a temporary directory.
#include "relay/queue/operations.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "relay/base/env.h"
#include "relay/queue/queue_file.h"
#include "relay/queue/spool.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

TEST(SpoolPaths, EveryNameTheSpoolUses) {
  SpoolPaths p("/s");
  EXPECT_EQ(p.tmp_file("ID"), "/s/tmp/ID");
  EXPECT_EQ(p.queue_file("ID"), "/s/queue/ID");
  EXPECT_EQ(p.state_file("ID"), "/s/state/ID");
  EXPECT_EQ(p.hold_file("ID"), "/s/hold/ID");
  EXPECT_EQ(p.failed_file("ID"), "/s/failed/ID");
  EXPECT_EQ(p.failed_state_file("ID"), "/s/failed/ID.state");
  EXPECT_EQ(p.corrupt_file("ID"), "/s/corrupt/ID");
  EXPECT_EQ(p.corrupt_aside_file("ID"), "/s/queue/ID.corrupt");
  EXPECT_EQ(p.trigger(Trigger::kFlush), "/s/queue/.flush");
  EXPECT_EQ(p.trigger(Trigger::kWake), "/s/queue/.wake");
  EXPECT_EQ(p.status_file(), "/s/state/.status");
  EXPECT_EQ(p.deliver_lock(), "/s/state/.deliver.lock");
  EXPECT_TRUE(SpoolPaths::IsTrigger(".flush", Trigger::kFlush));
  EXPECT_FALSE(SpoolPaths::IsTrigger(".flush", Trigger::kWake));
  EXPECT_FALSE(SpoolPaths::IsTrigger(".flushx", Trigger::kFlush));
  EXPECT_FALSE(SpoolPaths::IsTrigger("", Trigger::kFlush));
}

class Operations : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths_).ok()); }
  // A queued entry with two recipients and, optionally, a state file.
  void Queue(const std::string& id, int64_t next) {
    Envelope e;
    e.id = id;
    e.sender = "a@example.org";
    e.recipients = {{"b@example.org", ""}, {"c@example.org", ""}};
    std::string head;
    ASSERT_TRUE(EncodeHead(e, &head).ok());
    std::string content = "Subject: x\r\n\r\nbody\r\n";
    ASSERT_TRUE(Env::Default()
                    ->WriteFileAtomic(paths_.queue_file(id), head + content + EncodeTrailer(Trailer{content.size(), false}),
                                      0600)
                    .ok());
    if (next < 0) return;
    DeliveryState st;
    st.rcpts.resize(2);
    st.attempts = 3;
    st.next_attempt_micros = next;
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(paths_.state_file(id), EncodeState(st), 0600).ok());
  }
  bool Exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }
  testing::TempDir dir_;
  SpoolPaths paths_{dir_.path()};
};

TEST_F(Operations, HoldAndReleaseMoveTheEntryAndReleaseMakesItDue) {
  const std::string id = "0000000000000001A";
  Queue(id, 5'000'000'000'000'000);
  EXPECT_TRUE(HoldEntry(paths_, id));
  EXPECT_FALSE(Exists(paths_.queue_file(id)));
  EXPECT_TRUE(Exists(paths_.hold_file(id)));
  EXPECT_FALSE(HoldEntry(paths_, id)) << "not in queue/ any more";
  std::string path;
  EntryPlace place;
  ASSERT_TRUE(LocateEntry(paths_, id, &path, &place));
  EXPECT_EQ(path, paths_.hold_file(id));
  EXPECT_STREQ(EntryPlaceName(place), "hold");
  EXPECT_TRUE(ReleaseEntry(paths_, id));
  EXPECT_FALSE(ReleaseEntry(paths_, id)) << "not held any more";
  EXPECT_TRUE(Exists(paths_.queue_file(id)));
  DeliveryState st;
  ASSERT_TRUE(LoadEntryState(paths_, id, EntryPlace::kQueued, 2, &st));
  EXPECT_EQ(st.next_attempt_micros, 0);
  EXPECT_EQ(st.attempts, 3) << "only the due time changes";
}

TEST_F(Operations, DeleteRemovesTheEntryAndItsStateWherever) {
  const std::string id = "0000000000000002B";
  Queue(id, 7);
  std::string path;
  EntryPlace place;
  ASSERT_TRUE(LocateEntry(paths_, id, &path, &place));
  EXPECT_EQ(place, EntryPlace::kQueued);
  ASSERT_TRUE(DeleteEntry(paths_, id, path, place).ok());
  EXPECT_FALSE(Exists(paths_.queue_file(id)));
  EXPECT_FALSE(Exists(paths_.state_file(id)));
  EXPECT_FALSE(LocateEntry(paths_, id, &path, &place));
  Status s = DeleteEntry(paths_, id, paths_.queue_file(id), EntryPlace::kQueued);
  EXPECT_EQ(s.kind(), Status::Kind::kTempFail);
  EXPECT_NE(s.message().find(paths_.queue_file(id)), std::string::npos) << s.message();

  // A kept failure: its state lives beside it.
  Queue(id, 7);
  ASSERT_TRUE(Env::Default()->RenameFile(paths_.queue_file(id), paths_.failed_file(id)).ok());
  ASSERT_TRUE(Env::Default()->RenameFile(paths_.state_file(id), paths_.failed_state_file(id)).ok());
  ASSERT_TRUE(LocateEntry(paths_, id, &path, &place));
  EXPECT_EQ(place, EntryPlace::kFailed);
  DeliveryState st;
  EXPECT_TRUE(LoadEntryState(paths_, id, place, 2, &st));
  ASSERT_TRUE(DeleteEntry(paths_, id, path, place).ok());
  EXPECT_FALSE(Exists(paths_.failed_file(id)));
  EXPECT_FALSE(Exists(paths_.failed_state_file(id)));
}

TEST_F(Operations, WakeCreatesTheTriggerOnceAndAgainIsFine) {
  EXPECT_TRUE(WakeRelayd(paths_, Trigger::kFlush).ok());
  EXPECT_TRUE(Exists(paths_.trigger(Trigger::kFlush)));
  EXPECT_TRUE(WakeRelayd(paths_, Trigger::kFlush).ok()) << "a trigger not yet seen does the job";
  EXPECT_TRUE(WakeRelayd(paths_, Trigger::kWake).ok());
  EXPECT_TRUE(Exists(paths_.trigger(Trigger::kWake)));
  SpoolPaths missing(dir_.path() + "/nowhere");
  Status s = WakeRelayd(missing, Trigger::kWake);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(missing.trigger(Trigger::kWake)), std::string::npos) << s.message();
}

}  // namespace
}  // namespace relay
