// sendmail's privileged part (drop.h) against a parent that lies: every
// request a compromised parent could send, as raw frames on the socket.
// The child runs here without the group (the test is not setgid); what is
// checked is what it agrees to do, and what it leaves behind.
#include "relay/inject/drop.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "testutil/temp_dir.h"

namespace relay {
namespace {

using testing::TempDir;

constexpr char kId[] = "66109E5E91C40000001";

class DropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spool_ = dir_.path() + "/spool";
    for (const std::string& d : {spool_, spool_ + "/tmp", spool_ + "/queue"}) ASSERT_EQ(mkdir(d.c_str(), 0700), 0);
    std::string conf = dir_.path() + "/relay.conf";
    std::ofstream(conf) << "# the child reads this key only\nspool_dir = " << spool_ << "\ndomain = example.com\n";
    ASSERT_TRUE(SplitOffDropper(conf.c_str(), &fd_, &pid_)) << std::strerror(errno);
  }
  void TearDown() override { End(); }

  void End() {
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
    waitpid(pid_, nullptr, 0);
  }

  // Sends one frame; false when the child has gone (no reply).
  bool Ask(char op, uint64_t arg, const std::string& payload, DropReply* r, bool want_reply = true,
           uint32_t claimed_len = UINT32_MAX) {
    char head[13];
    head[0] = op;
    uint32_t len = claimed_len == UINT32_MAX ? static_cast<uint32_t>(payload.size()) : claimed_len;
    std::memcpy(head + 1, &arg, sizeof arg);
    std::memcpy(head + 9, &len, sizeof len);
    std::string frame = std::string(head, sizeof head) + payload;
    if (write(fd_, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) return false;
    if (!want_reply) return true;
    return read(fd_, r, sizeof *r) == static_cast<ssize_t>(sizeof *r);
  }
  DropReply Begin(const std::string& spool, const std::string& id, uint64_t mode = 0600) {
    DropReply r{-1, -1};
    EXPECT_TRUE(Ask(kDropBegin, mode, spool + '\0' + id, &r));
    return r;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  int Count(const std::string& sub) { return static_cast<int>(dir_.List(sub).size()); }

  TempDir dir_;
  std::string spool_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

TEST_F(DropTest, CreatesWritesAndLinksOneEntry) {
  DropReply r = Begin(spool_, kId, 0604);
  ASSERT_EQ(r.err, 0);
  struct stat st;
  ASSERT_EQ(stat((spool_ + "/tmp/" + kId).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);  // exactly, past the umask
  ASSERT_TRUE(Ask(kDropWrite, 0, "head+", &r, false));
  ASSERT_TRUE(Ask(kDropReserve, 1 << 20, "", &r));
  EXPECT_EQ(r.err, 0);
  ASSERT_TRUE(Ask(kDropWrite, 0, "content", &r, false));
  ASSERT_TRUE(Ask(kDropCommit, 0, "", &r));
  EXPECT_EQ(r.err, 0);
  EXPECT_EQ(Read(spool_ + "/queue/" + kId), "head+content");
  ASSERT_EQ(stat((spool_ + "/queue/" + kId).c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 12);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(Count("spool/tmp"), 0);
}

TEST_F(DropTest, RefusesEveryIdThatIsNotAQueueIdAndEveryOtherMode) {
  for (const std::string& id : {std::string("../../etc/passwd"), std::string("66109E5E91C4000000/"),
                                std::string("66109E5E91C400000.."), std::string("66109e5e91c40000001"),
                                std::string("66109E5E91C4000000"), std::string("66109E5E91C400000011"),
                                std::string("66109E5E91C4000000W"), std::string(""),
                                std::string("66109E5E91C40000\0001", 19)}) {
    DropReply r = Begin(spool_, id);
    EXPECT_EQ(r.err, EINVAL) << id;
    EXPECT_EQ(r.step, kStepRequest) << id;
  }
  for (uint64_t mode : {uint64_t{0644}, uint64_t{0666}, uint64_t{0700}, uint64_t{02604}, uint64_t{04600}, uint64_t{0},
                        uint64_t{0x100000600}}) {
    DropReply r = Begin(spool_, kId, mode);
    EXPECT_EQ(r.err, EINVAL) << std::oct << mode;
  }
  EXPECT_EQ(Count("spool/tmp"), 0);
}

TEST_F(DropTest, RefusesASpoolItDidNotReadItself) {
  std::string other = dir_.path() + "/other";
  ASSERT_EQ(mkdir(other.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((other + "/tmp").c_str(), 0700), 0);
  for (const std::string& spool : {other, spool_ + "/", spool_ + "/../spool", std::string("")}) {
    DropReply r = Begin(spool, kId);
    EXPECT_EQ(r.err, EXDEV) << spool;
    EXPECT_EQ(r.step, kStepSpool) << spool;
  }
  DropReply r{-1, -1};
  ASSERT_TRUE(Ask(kDropBegin, 0600, kId, &r));  // no spool named at all
  EXPECT_EQ(r.step, kStepSpool);
  ASSERT_TRUE(Ask(kDropFlush, 0, other, &r));
  EXPECT_EQ(r.step, kStepSpool);
  EXPECT_EQ(Count("other/tmp"), 0);
  EXPECT_EQ(Count("spool/queue"), 0);
}

TEST_F(DropTest, NeverReplacesAnotherFile) {
  std::ofstream(spool_ + "/tmp/" + kId) << "someone else's";
  DropReply r = Begin(spool_, kId);
  EXPECT_EQ(r.err, EEXIST);
  EXPECT_EQ(r.step, kStepCreate);
  EXPECT_EQ(Read(spool_ + "/tmp/" + kId), "someone else's");  // not removed either
  ASSERT_TRUE(Ask(kDropCommit, 0, "", &r));
  EXPECT_NE(r.err, 0);  // nothing begun: nothing to commit
  EXPECT_EQ(Count("spool/queue"), 0);
  unlink((spool_ + "/tmp/" + kId).c_str());

  std::ofstream(spool_ + "/queue/" + kId) << "queued before";
  ASSERT_EQ(Begin(spool_, kId).err, 0);
  ASSERT_TRUE(Ask(kDropWrite, 0, "new", &r, false));
  ASSERT_TRUE(Ask(kDropCommit, 0, "", &r));
  EXPECT_EQ(r.err, EEXIST);
  EXPECT_EQ(r.step, kStepRename);
  EXPECT_EQ(Read(spool_ + "/queue/" + kId), "queued before");
  EXPECT_EQ(Count("spool/tmp"), 0);
}

TEST_F(DropTest, UnknownRequestsAreRefusedAndWritesWithoutAFileGoNowhere) {
  DropReply r{-1, -1};
  for (char op : {'X', '\0', 'b', 'w'}) {
    ASSERT_TRUE(Ask(op, 0, "", &r));
    EXPECT_EQ(r.err, EINVAL);
    EXPECT_EQ(r.step, kStepRequest);
  }
  ASSERT_TRUE(Ask(kDropWrite, 0, "stray", &r, false));
  ASSERT_TRUE(Ask(kDropReserve, 100, "", &r));
  EXPECT_EQ(r.err, EBADF);
  ASSERT_TRUE(Ask(kDropAbort, 0, "", &r));
  EXPECT_EQ(r.err, 0);
  EXPECT_EQ(Count("spool/tmp"), 0);
  EXPECT_EQ(Count("spool/queue"), 0);
}

TEST_F(DropTest, AnEndBeforeTheCommitRemovesTheTemporaryFile) {
  ASSERT_EQ(Begin(spool_, kId).err, 0);
  DropReply r;
  ASSERT_TRUE(Ask(kDropWrite, 0, "half a message", &r, false));
  End();  // the parent is gone
  EXPECT_EQ(Count("spool/tmp"), 0);
  EXPECT_EQ(Count("spool/queue"), 0);
}

TEST_F(DropTest, AnOversizedFrameEndsTheChildAndLeavesNothing) {
  ASSERT_EQ(Begin(spool_, kId).err, 0);
  DropReply r;
  ASSERT_TRUE(Ask(kDropWrite, 0, "", &r, false, (1u << 20) + 1));
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(Count("spool/tmp"), 0);
  close(fd_);
  fd_ = -1;
}

// Starts the child in a process where renameat2 fails with EINVAL (a
// file system without it) and every unlink with EACCES, through a seccomp
// filter: the OS as the child sees it, without an Env in the child.
bool StartDropperWithoutRenameat2NorUnlink(const std::string& conf, int* fd, pid_t* pid) {
#if defined(__x86_64__)
  const uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  const uint32_t arch = AUDIT_ARCH_AARCH64;
#else
  return false;
#endif
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  *pid = fork();
  if (*pid < 0) return false;
  if (*pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_renameat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlinkat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
#ifdef __NR_unlink
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unlink, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
#endif
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      _exit(99);
    RunDropper(sv, conf.c_str());
  }
  close(sv[1]);
  *fd = sv[0];
  return true;
}

// Without renameat2 the commit is link + unlink. Once the link is made the
// entry is in queue/: an unlink of the temporary name that fails then is
// no failure of the commit, or sendmail would report one and the caller
// submit the message again (a duplicate). The name is left to relayd's
// sweep of tmp/.
TEST_F(DropTest, ACommitWhoseTemporaryNameCannotBeRemovedIsACommit) {
  End();
  ASSERT_TRUE(StartDropperWithoutRenameat2NorUnlink(dir_.path() + "/relay.conf", &fd_, &pid_));
  ASSERT_EQ(Begin(spool_, kId).err, 0);
  DropReply r{-1, -1};
  ASSERT_TRUE(Ask(kDropWrite, 0, "whole message", &r, false));
  ASSERT_TRUE(Ask(kDropCommit, 0, "", &r));
  EXPECT_EQ(r.err, 0) << "step " << r.step << ": " << std::strerror(r.err);
  EXPECT_EQ(Read(spool_ + "/queue/" + kId), "whole message");
  EXPECT_EQ(Count("spool/tmp"), 1);  // for the sweep
  End();
  EXPECT_EQ(Count("spool/queue"), 1);
}

// sendmail's own side (DropClient) against the child: appends of every
// size around its frame sizes, small ones gathered and large ones sent
// from where they lie (split below the child's 1 MiB limit), make one
// entry with exactly those bytes.
TEST_F(DropTest, TheClientsAppendsOfEverySizeArriveWhole) {
  signal(SIGPIPE, SIG_IGN);  // as sendmail does: a child that left is an error here, not a death
  DropClient client(fd_, SpoolPaths(spool_));
  bool exists = true;
  ASSERT_TRUE(client.Begin(kId, 0600, &exists).ok());
  EXPECT_FALSE(exists);
  std::string want;
  size_t sizes[] = {1, 77, 65535, 65536, 65536 + 77, 3, 262144, 262145, 300000, 2 << 20, 5, 1 << 20, 0, 64};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; ++i) {
    std::string piece(sizes[i], static_cast<char>('a' + i));
    if (!piece.empty()) {  // the ends of each piece are seen in place
      piece[0] = '<';
      piece.back() = '>';
    }
    want += piece;
    ASSERT_TRUE(client.Append(piece).ok()) << "append of " << sizes[i];
    if (i == 4) {
      ASSERT_TRUE(client.Reserve(1 << 20).ok());
    }
  }
  EXPECT_EQ(client.Size(), want.size());
  Status s = client.Commit();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Read(spool_ + "/queue/" + kId), want);
  EXPECT_EQ(Count("tmp"), 0);
}

TEST_F(DropTest, FlushTriggerIsCreatedOnceAndAgainIsFine) {
  DropReply r{-1, -1};
  ASSERT_TRUE(Ask(kDropFlush, 0, spool_, &r));
  EXPECT_EQ(r.err, 0);
  ASSERT_TRUE(Ask(kDropFlush, 0, spool_, &r));
  EXPECT_EQ(r.err, 0);
  struct stat st;
  ASSERT_EQ(lstat((spool_ + "/queue/.flush").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
}  // namespace relay
