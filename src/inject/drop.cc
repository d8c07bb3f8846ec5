// The privileged part of sendmail (see relay/inject/drop.h): after the
// fork, this file is all that runs with the spool group. System calls
// only, no relay library code, no parser but for one relay.conf key.
#include "relay/inject/drop.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace relay {
namespace {

char g_spool[2048];  // spool_dir, as this process read it (a longer one: refused)
char g_temp[4096];   // tmp/<id> while it is ours to remove (signal-safe)
char g_final[4096];  // queue/<id>
int g_fd = -1;       // the open tmp/<id>
uint64_t g_size = 0, g_reserved = 0;
DropReply g_error;   // the first failed write, told with the next reply

sigset_t g_signals;  // held off but while waiting for a request: g_temp is always right

void OnSignal(int) {
  if (g_temp[0] != '\0') unlink(g_temp);
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

DropReply Fail(int32_t step) { return DropReply{errno, step}; }

// spool_dir as ParseConfig reads it: the value of its last line. Each
// request names the parent's spool_dir, refused unless it is this one.
bool ReadSpoolDir(const char* config) {
  std::snprintf(g_spool, sizeof g_spool, "/var/spool/relay");
  FILE* f = std::fopen(config, "re");
  char line[4096];
  while (f && std::fgets(line, sizeof line, f)) {
    char* p = line + std::strspn(line, " \t");
    if (std::strncmp(p, "spool_dir", 9) != 0 || *(p += 9 + std::strspn(p + 9, " \t")) != '=') continue;
    p += 1 + std::strspn(p + 1, " \t");
    size_t n = std::strlen(p);
    while (n > 0 && std::strchr(" \t\r\n", p[n - 1])) --n;
    if (n > 0) std::snprintf(g_spool, sizeof g_spool, "%.*s", static_cast<int>(n), p);
  }
  return f ? std::fclose(f) == 0 : errno == ENOENT;
}

void Abort() {
  if (g_fd >= 0) close(g_fd);
  if (g_temp[0] != '\0') unlink(g_temp);
  g_temp[0] = '\0';
  g_fd = -1;
  g_size = g_reserved = 0;
  g_error = DropReply();
}

// payload: spool_dir '\0' id; the id as IsQueueId has it (no '/', no "..").
DropReply Begin(std::string_view payload, uint64_t mode) {
  Abort();
  std::string_view id = payload.substr(std::min(payload.size(), payload.find('\0') + 1));
  if (payload.substr(0, payload.find('\0')) != g_spool) return {EXDEV, kStepSpool};
  bool valid = id.size() == 19 && (mode == 0600 || mode == 0604);
  for (char c : id) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'V'));
  if (!valid) return {EINVAL, kStepRequest};
  DropReply r;
  const SpoolPaths paths(g_spool);  // static copies: the signal handler unlinks g_temp
  std::snprintf(g_temp, sizeof g_temp, "%s", paths.tmp_file(id).c_str());
  std::snprintf(g_final, sizeof g_final, "%s", paths.queue_file(id).c_str());
  g_fd = open(g_temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
  if (g_fd < 0) r = Fail(kStepCreate), g_temp[0] = '\0';  // not ours to remove
  if (g_fd >= 0) flock(g_fd, LOCK_EX | LOCK_NB);  // relayd's sweep of tmp/ leaves it alone
  if (g_fd >= 0 && fchmod(g_fd, static_cast<mode_t>(mode)) != 0) r = Fail(kStepChmod);  // past the umask
  if (r.err != 0) Abort();
  return r;
}

DropReply Reserve(uint64_t want) {
  if (g_error.err != 0) return g_error;  // no file: fallocate says EBADF
  if (want > g_reserved && fallocate(g_fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(want)) != 0)
    return errno == EOPNOTSUPP || errno == ENOSYS ? DropReply{} : Fail(kStepReserve);
  g_reserved = std::max(want, g_reserved);
  return {};
}

// QueueWriter::Commit's steps.
DropReply Commit() {
  DropReply r = g_error;  // no file: fdatasync says EBADF
  if (r.err == 0 && g_reserved > g_size && ftruncate(g_fd, static_cast<off_t>(g_size)) != 0)
    r = Fail(kStepTruncate);
  if (r.err == 0 && fdatasync(g_fd) != 0) r = Fail(kStepFsync);
  if (r.err == 0 && close(g_fd) != 0) r = Fail(kStepClose);
  if (r.err == 0) g_fd = -1;
  // renameat2 keeps one link; file systems without it get link + unlink.
  if (r.err == 0 && renameat2(AT_FDCWD, g_temp, AT_FDCWD, g_final, RENAME_NOREPLACE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) r = Fail(kStepRename);
    else if (link(g_temp, g_final) != 0) r = Fail(kStepLink);
    else if (unlink(g_temp) != 0) r = Fail(kStepUnlink);
  }
  if (r.err == 0) {
    g_temp[0] = '\0';
    int dir = open(SpoolPaths(g_spool).queue().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || fsync(dir) != 0) r = Fail(dir < 0 ? kStepOpenDir : kStepFsyncDir);
    if (dir >= 0) close(dir);
    if (r.err != 0) unlink(g_final);  // visible, but not durable: taken back
  }
  Abort();
  return r;
}

DropReply FlushTrigger(std::string_view payload) {
  if (payload != g_spool) return {EXDEV, kStepSpool};
  int fd = open(SpoolPaths(g_spool).trigger(Trigger::kFlush).c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0604);
  if (fd < 0 && errno != EEXIST) return Fail(kStepFlush);
  if (fd >= 0) close(fd);
  return {};
}

[[noreturn]] void Serve(int fd) {
  std::string payload;
  char head[13];  // op, 64-bit argument, 32-bit payload length
  for (;;) {
    uint64_t arg;
    uint32_t len = 0;
    sigprocmask(SIG_UNBLOCK, &g_signals, nullptr);
    bool got = Full(fd, head, sizeof head, true);
    if (got) std::memcpy(&arg, head + 1, sizeof arg), std::memcpy(&len, head + 9, sizeof len);
    payload.resize(std::min(len, 1u << 20));
    got = got && len <= (1u << 20) && Full(fd, payload.data(), len, true);
    sigprocmask(SIG_BLOCK, &g_signals, nullptr);
    if (!got) break;
    DropReply r = {EINVAL, kStepRequest};
    if (head[0] == kDropWrite) {
      if (g_fd >= 0 && g_error.err == 0 && !Full(g_fd, payload.data(), len, false)) g_error = Fail(kStepWrite);
      g_size += len;
      continue;
    }
    if (head[0] == kDropBegin) r = Begin(payload, arg);
    if (head[0] == kDropReserve) r = Reserve(arg);
    if (head[0] == kDropCommit) r = Commit();
    if (head[0] == kDropAbort) Abort(), r = DropReply();
    if (head[0] == kDropFlush) r = FlushTrigger(payload);
    if (!Full(fd, reinterpret_cast<char*>(&r), sizeof r, false)) break;
  }
  Abort();  // end of file before a commit: the parent is gone
  _exit(0);
}

}  // namespace

bool SplitOffDropper(const char* config_path, int* fd, pid_t* pid) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  if ((*pid = fork()) == 0) {
    close(sv[0]);  // or the parent's end would never be seen to close
    int null = open("/dev/null", O_RDWR);  // never the caller's standard input
    for (int i = 0; i <= 2; ++i) dup2(null, i);
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    sigfillset(&sa.sa_mask);
    sigemptyset(&g_signals);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr), sigaddset(&g_signals, sig);
    sigprocmask(SIG_BLOCK, &g_signals, nullptr);
    if (!ReadSpoolDir(config_path)) _exit(EX_CONFIG);
    Serve(sv[1]);
  }
  int err = errno;
  close(sv[1]);
  gid_t g = getgid();
  uid_t u = getuid();
  if (*pid < 0 || setresgid(g, g, g) != 0 || setresuid(u, u, u) != 0) {
    err = *pid < 0 ? err : errno;
    close(sv[0]);
    errno = err;
    return false;
  }
  *fd = sv[0];
  return true;
}

}  // namespace relay
