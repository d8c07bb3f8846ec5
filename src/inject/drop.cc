// sendmail's privileged part (relay/inject/drop.h): with drop_config.cc, all that
// the child of SplitOffDropper runs, the one process that keeps the spool group.
#include "relay/inject/drop.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace relay {
namespace {

char g_spool[2048];  // spool_dir, as this process read it (a longer one: refused)
sigset_t g_signals;  // held off but while waiting for a request: g.temp is always right
struct Entry {
  char temp[4096] = "";   // tmp/<id> while it is ours to remove (signal-safe)
  char final[4096] = "";  // queue/<id>
  int fd = -1;            // the open tmp/<id>
  uint64_t size = 0, reserved = 0;
  uint64_t written_back = 0;  // bytes whose writeback has been started
  DropReply error;  // the first failed write, told with the next reply
} g;

void OnSignal(int) {
  if (g.temp[0] != '\0') unlink(g.temp);
  _exit(EX_TEMPFAIL);
}

bool Full(int fd, char* p, size_t n, bool reading) {
  for (ssize_t r; n > 0; p += r, n -= static_cast<size_t>(r)) {
    r = reading ? read(fd, p, n) : write(fd, p, n);
    if (r < 0 && errno == EINTR) r = 0;
    else if (r <= 0) return false;
  }
  return true;
}

void Abort() {
  if (g.fd >= 0) close(g.fd);
  if (g.temp[0] != '\0') unlink(g.temp);
  g = Entry();
}

// payload: spool_dir '\0' id; the id as IsQueueId has it (no '/', no "..").
DropReply Begin(std::string_view payload, uint64_t mode) {
  std::string_view id = payload.substr(std::min(payload.size(), payload.find('\0') + 1));
  if (payload.substr(0, payload.find('\0')) != g_spool) return {EXDEV, kStepSpool};
  bool valid = id.size() == 19 && (mode == 0600 || mode == 0604);
  for (char c : id) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'V'));
  if (!valid) return {EINVAL, kStepRequest};
  const SpoolPaths paths(g_spool);  // static copies: the signal handler unlinks g.temp
  std::snprintf(g.final, sizeof g.final, "%s", paths.queue_file(id).c_str());
  g.fd = open(paths.tmp_file(id).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              static_cast<mode_t>(mode));
  if (g.fd < 0) return {errno, kStepCreate};  // and not ours to remove
  std::snprintf(g.temp, sizeof g.temp, "%s", paths.tmp_file(id).c_str());
  flock(g.fd, LOCK_EX | LOCK_NB);  // relayd's sweep of tmp/ leaves it alone
  if (fchmod(g.fd, static_cast<mode_t>(mode)) != 0) return {errno, kStepChmod};  // past the umask
  return {};
}

DropReply Reserve(uint64_t want) {
  if (g.error.err != 0 || want <= g.reserved) return g.error;  // no file: fallocate says EBADF
  if (fallocate(g.fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(want)) != 0)
    return errno == EOPNOTSUPP || errno == ENOSYS ? DropReply() : DropReply{errno, kStepReserve};
  g.reserved = want;
  return {};
}

// Starts the writeback of each whole kWritebackChunk as soon as it is
// written, without waiting for it: the disk works while the rest of a large
// message arrives, and Commit's fdatasync waits only for the tail. Errors
// are left to that fdatasync, which reports them.
constexpr uint64_t kWritebackChunk = 64ull << 20;
void StartWriteback() {
  uint64_t whole = g.size / kWritebackChunk * kWritebackChunk;
  if (whole <= g.written_back) return;
  sync_file_range(g.fd, static_cast<off_t>(g.written_back), static_cast<off_t>(whole - g.written_back),
                  SYNC_FILE_RANGE_WRITE);
  g.written_back = whole;
}

// QueueWriter::Commit's steps; file systems without renameat2 get link + unlink.
DropReply Commit() {
  if (g.error.err != 0) return g.error;  // no file: fdatasync says EBADF
  if (g.reserved > g.size && ftruncate(g.fd, static_cast<off_t>(g.size)) != 0) return {errno, kStepTruncate};
  if (fdatasync(g.fd) != 0) return {errno, kStepFsync};
  if (close(std::exchange(g.fd, -1)) != 0) return {errno, kStepClose};
  if (renameat2(AT_FDCWD, g.temp, AT_FDCWD, g.final, RENAME_NOREPLACE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) return {errno, kStepRename};
    if (link(g.temp, g.final) != 0) return {errno, kStepLink};
    // The entry is in queue/ from here on: a failed unlink must not make
    // sendmail report a failure (and its caller submit again). The name
    // is left to relayd's sweep of tmp/; till then the entry's two links
    // say "still being committed".
    (void)unlink(g.temp);
  }
  g.temp[0] = '\0';
  int dir = open(SpoolPaths(g_spool).queue().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DropReply r = dir >= 0 && fsync(dir) == 0 ? DropReply()
                                            : DropReply{errno, dir < 0 ? kStepOpenDir : kStepFsyncDir};
  if (dir >= 0) close(dir);
  if (r.err != 0) unlink(g.final);  // visible, but not durable: taken back
  return r;
}

DropReply FlushTrigger(std::string_view payload) {
  if (payload != g_spool) return {EXDEV, kStepSpool};
  int fd = open(SpoolPaths(g_spool).trigger(Trigger::kFlush).c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0604);
  if (fd >= 0) close(fd);
  return fd < 0 && errno != EEXIST ? DropReply{errno, kStepFlush} : DropReply();  // one there already: fine
}

// A failed Begin, and every Commit, leave no entry; Write has no answer.
DropReply Answer(char op, uint64_t arg, std::string_view payload) {
  if (op == kDropReserve) return Reserve(arg);
  if (op == kDropFlush) return FlushTrigger(payload);
  if (op != kDropBegin && op != kDropCommit && op != kDropAbort) return {EINVAL, kStepRequest};
  if (op == kDropBegin) Abort();  // a Begin starts afresh
  DropReply r = op == kDropBegin ? Begin(payload, arg) : op == kDropCommit ? Commit() : DropReply();
  if (op != kDropBegin || r.err != 0) Abort();
  return r;
}

}  // namespace

void RunDropper(const int sv[2], const char* config_path) {
  close(sv[0]);  // or the parent's end would never be seen to close
  int null = open("/dev/null", O_RDWR);  // never the caller's standard input
  for (int i = 0; i <= 2; ++i) dup2(null, i);
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigfillset(&sa.sa_mask);
  sigemptyset(&g_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr), sigaddset(&g_signals, sig);
  sigprocmask(SIG_BLOCK, &g_signals, nullptr);
  if (!ReadDropSpoolDir(config_path, g_spool, sizeof g_spool)) _exit(EX_CONFIG);
  std::string payload;
  for (char head[13];;) {  // op, 64-bit argument, 32-bit payload length
    uint64_t arg;
    uint32_t len = 0;
    sigprocmask(SIG_UNBLOCK, &g_signals, nullptr);
    bool got = Full(sv[1], head, sizeof head, true);
    if (got) std::memcpy(&arg, head + 1, sizeof arg), std::memcpy(&len, head + 9, sizeof len);
    payload.resize(std::min(len, 1u << 20));
    got = got && len <= (1u << 20) && Full(sv[1], payload.data(), len, true);
    sigprocmask(SIG_BLOCK, &g_signals, nullptr);
    if (!got) break;
    if (head[0] == kDropWrite && g.fd >= 0 && g.error.err == 0 && !Full(g.fd, payload.data(), len, false))
      g.error = {errno, kStepWrite};
    g.size += head[0] == kDropWrite ? len : 0;
    if (head[0] == kDropWrite && g.fd >= 0 && g.error.err == 0) StartWriteback();
    DropReply r = Answer(head[0], arg, payload);
    if (head[0] != kDropWrite && !Full(sv[1], reinterpret_cast<char*>(&r), sizeof r, false)) break;
  }
  Abort();  // end of file before a commit: the parent is gone
  _exit(0);
}

}  // namespace relay
