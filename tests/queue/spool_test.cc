// What relay-deliver requires of an opened queue entry, and whose it is:
// pure functions of a struct stat (spool.h).
#include "relay/queue/spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace relay
