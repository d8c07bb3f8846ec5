// The spool's layout (SpoolPaths, spool.h) and the queue operations
// (operations.h) on a spool in a temporary directory.
#include "relay/queue/operations.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>

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

// LoadMessage, what relay-deliver and relayctl bounce open: an entry as
// relay wrote it loads, with the submitter the kernel says; anything else
// is refused (DataErr: to corrupt/; TempFail: later) with a line that
// names what was wrong, and a FIFO does not block.
class Load : public Operations {
 protected:
  static constexpr char kId[] = "6610AAE723F5700TMGJ";
  // The bytes of an entry for id with the recorded uid.
  static std::string Entry(const std::string& id, int64_t uid) {
    Envelope e;
    e.id = id;
    e.uid = uid;
    e.sender = "a@example.org";
    e.recipients = {{"b@example.org", ""}, {"c@example.org", ""}};
    std::string head;
    EXPECT_TRUE(EncodeHead(e, &head).ok());
    std::string content = "Subject: x\r\n\r\nbody\r\n";
    return head + content + EncodeTrailer(Trailer{content.size(), false});
  }
  void Write(const std::string& path, const std::string& bytes, mode_t mode = 0600) {
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, bytes, mode).ok());
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
  // Loads kId, expecting a refusal of this kind naming words.
  void Refusal(Status::Kind kind, const std::string& words) {
    LoadedMessage m;
    Status s = LoadMessage(paths_, kId, &m);
    EXPECT_EQ(s.kind(), kind) << s.message();
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  }
};

TEST_F(Load, AnEntryRelayWroteLoadsWithItsState) {
  Write(paths_.queue_file(kId), Entry(kId, 1234), 0604);
  LoadedMessage m;
  ASSERT_TRUE(LoadMessage(paths_, kId, &m).ok());
  EXPECT_EQ(m.id, kId);
  EXPECT_GE(m.fd, 0);
  EXPECT_EQ(m.env.recipients.size(), 2u);
  EXPECT_EQ(m.env.uid, 1234) << "a file of the spool's owner: the record speaks";
  EXPECT_GT(m.content_offset, 0u);
  EXPECT_EQ(m.trailer.content_size, std::string("Subject: x\r\n\r\nbody\r\n").size());
  EXPECT_EQ(m.state.rcpts.size(), 2u) << "no state file: every recipient pending";

  DeliveryState st;
  st.rcpts.resize(2);
  st.attempts = 4;
  Write(paths_.state_file(kId), EncodeState(st));
  LoadedMessage again;
  ASSERT_TRUE(LoadMessage(paths_, kId, &again).ok());
  EXPECT_EQ(again.state.attempts, 4);
}

TEST_F(Load, AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(mkfifo(paths_.queue_file(kId).c_str(), 0600), 0);
  Refusal(Status::Kind::kDataErr, "not a regular file");
}

TEST_F(Load, ASymbolicLinkIsRefusedNotFollowed) {
  Write(paths_.tmp_file(kId), Entry(kId, 1000));
  ASSERT_EQ(symlink(paths_.tmp_file(kId).c_str(), paths_.queue_file(kId).c_str()), 0);
  Refusal(Status::Kind::kDataErr, "symbolic link");
  ASSERT_EQ(unlink(paths_.queue_file(kId).c_str()), 0);
  ASSERT_EQ(symlink("/nonexistent", paths_.queue_file(kId).c_str()), 0);
  Refusal(Status::Kind::kDataErr, "symbolic link");
}

TEST_F(Load, TwoLinksAreACommitUnderWayMoreAreRefused) {
  Write(paths_.queue_file(kId), Entry(kId, 1000));
  ASSERT_EQ(link(paths_.queue_file(kId).c_str(), paths_.tmp_file(kId).c_str()), 0);
  Refusal(Status::Kind::kTempFail, "still being committed");
  ASSERT_EQ(link(paths_.queue_file(kId).c_str(), (dir_.path() + "/third").c_str()), 0);
  Refusal(Status::Kind::kDataErr, "extra hard links");
}

TEST_F(Load, AFileOthersMayWriteIsRefused) {
  for (mode_t mode : {0620, 0602, 0666}) {
    Write(paths_.queue_file(kId), Entry(kId, 1000), mode);
    Refusal(Status::Kind::kDataErr, "writable by group or others");
  }
}

TEST_F(Load, ATruncatedEntryIsRefused) {
  std::string bytes = Entry(kId, 1000);
  const std::string trailer = EncodeTrailer(Trailer{std::string("Subject: x\r\n\r\nbody\r\n").size(), false});
  for (size_t cut : {size_t{1}, trailer.size() / 2, trailer.size(), trailer.size() + 5}) {
    Write(paths_.queue_file(kId), bytes.substr(0, bytes.size() - cut));
    LoadedMessage m;
    Status s = LoadMessage(paths_, kId, &m);
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr) << "cut " << cut << ": " << s.message();
  }
  Write(paths_.queue_file(kId), bytes.substr(0, bytes.size() - trailer.size()));
  Refusal(Status::Kind::kDataErr, "no end record matching its size");
}

TEST_F(Load, AnEntryUnderAnotherIdIsRefused) {
  Write(paths_.queue_file(kId), Entry("6610AAE723F5700TMGK", 1000));
  Refusal(Status::Kind::kDataErr, "does not match its name");
}

TEST_F(Load, AMissingEntryNamesItsPath) {
  Refusal(Status::Kind::kTempFail, paths_.queue_file(kId));
}

// Postfix's pickup: the submitter is the file's owner, whatever uid the
// file records, unless the spool's owner wrote it. Needs root to chown.
TEST_F(Load, TheSubmitterIsTheOwnerNotTheRecord) {
  // The rule itself is Spool.SubmitterIsTheOwnerUnlessTheRelayUser, with
  // no I/O; this is the load path, which needs a file of another user.
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root: the entry is given to another user (chown 65534) to show that "
                    "the owner, not the uid record, is the submitter; CI runs as root";
  Write(paths_.queue_file(kId), Entry(kId, 0), 0604);  // nobody's file, forging "uid 0"
  ASSERT_EQ(chown(paths_.queue_file(kId).c_str(), 65534, 65534), 0);
  LoadedMessage m;
  ASSERT_TRUE(LoadMessage(paths_, kId, &m).ok());
  EXPECT_EQ(m.env.uid, 65534);
  Write(paths_.queue_file(kId), Entry(kId, 4321), 0604);  // written by the spool's owner (root)
  LoadedMessage own;
  ASSERT_TRUE(LoadMessage(paths_, kId, &own).ok());
  EXPECT_EQ(own.env.uid, 4321) << "the spool owner's file: its record speaks";
}

}  // namespace
}  // namespace relay
