// What relay-deliver requires of an opened queue entry, and whose it is:
// pure functions of a struct stat (spool.h); the queue operations for
// messages relay itself creates, in a temporary spool.
#include "relay/queue/spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

struct stat Stat(mode_t mode, nlink_t links, uid_t uid) {
  struct stat st = {};
  st.st_mode = mode;
  st.st_nlink = links;
  st.st_uid = uid;
  return st;
}

TEST(Spool, OnlyAPrivateRegularFileWithOneLinkIsAnEntry) {
  EXPECT_TRUE(CheckQueueFileStat(Stat(S_IFREG | 0600, 1, 1000)).ok());
  EXPECT_TRUE(CheckQueueFileStat(Stat(S_IFREG | 0604, 1, 1000)).ok());  // setgid sendmail's
  struct Case {
    struct stat st;
    Status::Kind kind;
    const char* message;
  } cases[] = {
      {Stat(S_IFIFO | 0604, 1, 65534), Status::Kind::kDataErr, "not a regular file"},
      {Stat(S_IFDIR | 0755, 2, 65534), Status::Kind::kDataErr, "not a regular file"},
      {Stat(S_IFCHR | 0666, 1, 0), Status::Kind::kDataErr, "not a regular file"},
      {Stat(S_IFSOCK | 0600, 1, 0), Status::Kind::kDataErr, "not a regular file"},
      {Stat(S_IFREG | 0600, 3, 1000), Status::Kind::kDataErr, "extra hard links"},
      {Stat(S_IFREG | 0600, 2, 1000), Status::Kind::kTempFail, "still being committed"},
      {Stat(S_IFREG | 0600, 0, 1000), Status::Kind::kDataErr, "removed"},
      {Stat(S_IFREG | 0664, 1, 1000), Status::Kind::kDataErr, "writable by group or others"},
      {Stat(S_IFREG | 0606, 1, 1000), Status::Kind::kDataErr, "writable by group or others"},
  };
  for (const Case& c : cases) {
    Status s = CheckQueueFileStat(c.st);
    EXPECT_EQ(s.kind(), c.kind) << s.message();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
}

// Postfix's pickup: the kernel says who submitted a file, except for the
// relay user's own files (the listener's, bounces), whose record speaks.
TEST(Spool, SubmitterIsTheOwnerUnlessTheRelayUser) {
  const uid_t relay = 64320;
  EXPECT_EQ(SubmitterUid(Stat(S_IFREG | 0604, 1, 65534), relay, 0), 65534);   // forged "uid 0"
  EXPECT_EQ(SubmitterUid(Stat(S_IFREG | 0604, 1, 1000), relay, 1000), 1000);
  EXPECT_EQ(SubmitterUid(Stat(S_IFREG | 0604, 1, 0), relay, 1000), 0);        // root's file is root's
  EXPECT_EQ(SubmitterUid(Stat(S_IFREG | 0600, 1, relay), relay, 1000), 1000);  // the listener's client
  EXPECT_EQ(SubmitterUid(Stat(S_IFREG | 0600, 1, relay), relay, -1), -1);
}

TEST(Spool, CommitRelayMessageWritesACompleteEntry) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  Envelope e;
  e.id = "6610AAE723F5700TMGJ";
  e.recipients = {{"alice@example.com", ""}};
  for (bool eight_bit : {false, true}) {
    SCOPED_TRACE(eight_bit);
    std::string second = eight_bit ? "caf\xc3\xa9\r\n" : "cafe\r\n";
    ASSERT_TRUE(CommitRelayMessage(Env::Default(), paths, e, [&](const ContentSink& sink) {
                  Status s = sink("Subject: s\r\n\r\n");
                  return s.ok() ? sink(second) : s;
                }).ok());
    QueueEntryInfo info;
    ASSERT_TRUE(ReadQueueEntryInfo(paths.queue_file(e.id), &info).ok());
    EXPECT_TRUE(info.complete);
    EXPECT_EQ(info.content_size, 14 + second.size());
    EXPECT_EQ(info.envelope.recipients[0].address, "alice@example.com");
    int fd = OpenQueueFile(paths.queue_file(e.id));
    ASSERT_GE(fd, 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    Envelope env;
    size_t head_size;
    Trailer t;
    bool complete;
    ASSERT_TRUE(ReadQueueHead(fd, static_cast<uint64_t>(st.st_size), &env, &head_size, &t, &complete).ok());
    close(fd);
    EXPECT_EQ(t.eight_bit, eight_bit);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(std::remove(paths.queue_file(e.id).c_str()), 0);
  }
  // The content's failure: nothing committed, nothing left in tmp/.
  Status s = CommitRelayMessage(Env::Default(), paths, e,
                                [](const ContentSink&) { return Status::TempFail("read queue file"); });
  EXPECT_EQ(s.message(), "read queue file");
  EXPECT_TRUE(dir.List("queue").empty());
  EXPECT_TRUE(dir.List("tmp").empty());
}

// Without renameat2 (some network and FUSE file systems) the commit is
// link + unlink. Once the link is made the entry is in queue/: an unlink
// of the temporary name that fails then is no failure of the commit, or
// the caller would submit the message again and it would go out twice.
// The temporary name is left for relayd's sweep of tmp/.
TEST(Spool, CommitWithoutRenameat2) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  testing::FaultEnv env;
  env.LackRenameat2();
  Envelope e;
  e.id = "6610AAE723F5700TMGK";
  e.recipients = {{"alice@example.com", ""}};
  auto content = [](const ContentSink& sink) { return sink("Subject: s\r\n\r\nbody\r\n"); };
  const std::vector<std::string> just_id = {e.id};

  // The fallback on its own: one name, in queue/.
  ASSERT_TRUE(CommitRelayMessage(&env, paths, e, content).ok());
  EXPECT_EQ(dir.List("queue"), just_id);
  EXPECT_TRUE(dir.List("tmp").empty());
  ASSERT_EQ(std::remove(paths.queue_file(e.id).c_str()), 0);

  // The unlink fails: committed all the same, the temporary name left.
  env.FailNth(testing::Op::kRemove, 1, EACCES);
  Status s = CommitRelayMessage(&env, paths, e, content);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dir.List("queue"), just_id);
  EXPECT_EQ(dir.List("tmp"), just_id);
  QueueEntryInfo info;
  ASSERT_TRUE(ReadQueueEntryInfo(paths.queue_file(e.id), &info).ok());
  EXPECT_TRUE(info.complete);
  ASSERT_EQ(std::remove(paths.queue_file(e.id).c_str()), 0);
  ASSERT_EQ(std::remove(paths.tmp_file(e.id).c_str()), 0);

  // The link fails: that is a failure, and nothing is left anywhere.
  env.FailNth(testing::Op::kLink, 1, EIO);
  s = CommitRelayMessage(&env, paths, e, content);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(dir.List("queue").empty());
  EXPECT_TRUE(dir.List("tmp").empty());
}

TEST(Spool, KeepInFailedMovesTheEntryAndItsState) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  std::ofstream(paths.queue_file("ID1")) << "entry";
  std::ofstream(paths.state() + "/ID1") << "state";
  std::string kept;
  ASSERT_TRUE(KeepInFailed(Env::Default(), paths, "ID1", &kept).ok());
  EXPECT_EQ(kept, paths.failed() + "/ID1");
  EXPECT_EQ(dir.List("failed"), (std::vector<std::string>{"ID1", "ID1.state"}));
  EXPECT_TRUE(dir.List("queue").empty());
  EXPECT_TRUE(dir.List("state").empty());
  kept.clear();
  EXPECT_FALSE(KeepInFailed(Env::Default(), paths, "ID1", &kept).ok());  // gone
  EXPECT_EQ(kept, "");
}

}  // namespace
}  // namespace relay
