// The unprivileged side of sendmail's split (see relay/inject/drop.h): a
// MessageSink that sends what QueueWriter would write to the child that
// holds the spool group, and words its failures as QueueWriter does.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/inject/drop.h"

namespace relay {
namespace {

// Small appends are gathered into frames of kFrameBytes; larger ones go
// out as they are, in frames of at most kMaxFrameBytes (the child takes up
// to 1 MiB, and holds one frame at a time).
constexpr size_t kFrameBytes = 64 * 1024;
constexpr size_t kMaxFrameBytes = 256 * 1024;

// Writes all of iov[0..n), which it may change.
bool WriteFull(int fd, struct iovec* iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    size_t done = static_cast<size_t>(w);
    while (n > 0 && done >= iov->iov_len) {  // the parts written whole
      done -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {  // and the one written in part
      iov->iov_base = static_cast<char*>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
  return true;
}

Status Gone() {
  return Status::TempFail("the spool writer (sendmail's privileged part) ended before the message was stored");
}

Status SendFrame(int fd, DropOp op, uint64_t arg, std::string_view payload) {
  char head[13];
  head[0] = op;
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::memcpy(head + 1, &arg, sizeof arg);
  std::memcpy(head + 9, &len, sizeof len);
  struct iovec iov[2] = {{head, sizeof head}, {const_cast<char*>(payload.data()), payload.size()}};
  if (!WriteFull(fd, iov, 2)) return Gone();  // one system call per frame, head and payload
  return Status::Ok();
}

Status Exchange(int fd, DropOp op, uint64_t arg, std::string_view payload, DropReply* r) {
  Status s = SendFrame(fd, op, arg, payload);
  if (!s.ok()) return s;
  char* p = reinterpret_cast<char*>(r);
  size_t got = 0;
  while (got < sizeof *r) {
    ssize_t n = read(fd, p + got, sizeof *r - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Gone();
    got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SpoolMismatch(const SpoolPaths& paths) {
  return Status::Config("spool_dir " + paths.root +
                        " is not the one sendmail's privileged part reads from the default configuration");
}

}  // namespace

DropClient::~DropClient() { Abort(); }

Status DropClient::Failure(const DropReply& r) const {
  std::string tmp = temp_path_, queue = paths_.queue_file(id_);
  std::string what;
  switch (r.step) {
    case kStepCreate: what = "create " + tmp; break;
    case kStepChmod: what = "chmod " + tmp; break;
    case kStepWrite: what = "write " + tmp; break;
    case kStepReserve: what = "reserve space for " + tmp; break;
    case kStepTruncate: what = "truncate " + tmp; break;
    case kStepFsync: what = "fsync " + tmp; break;
    case kStepClose: what = "close " + tmp; break;
    case kStepRename: what = "rename " + tmp + " to " + queue; break;
    case kStepLink: what = "link " + tmp + " to " + queue; break;
    case kStepUnlink: what = "unlink " + tmp; break;
    case kStepOpenDir: what = "open " + paths_.queue(); break;
    case kStepFsyncDir: what = "fsync " + paths_.queue(); break;
    case kStepSpool: return SpoolMismatch(paths_);
    default: return Status::Software("sendmail's privileged part refused a request");
  }
  return Status::FromErrno(r.err, what);
}

Status DropClient::Call(DropOp op, uint64_t arg, std::string_view payload) {
  DropReply r;
  Status s = Exchange(fd_, op, arg, payload, &r);
  if (s.ok() && r.err != 0) s = Failure(r);
  return s;
}

Status DropClient::Begin(const std::string& id, mode_t mode, bool* exists) {
  Abort();
  id_ = id;
  temp_path_ = paths_.tmp_file(id);
  buf_.clear();
  size_ = reserved_ = 0;
  std::string payload = paths_.root + '\0' + id;
  DropReply r;
  Status s = Exchange(fd_, kDropBegin, mode, payload, &r);
  if (s.ok() && r.err != 0) s = Failure(r);
  *exists = r.err == EEXIST && r.step == kStepCreate;
  if (!s.ok()) temp_path_.clear();  // not ours to remove
  return s;
}

Status DropClient::Flush() {
  for (size_t off = 0; off < buf_.size(); off += kFrameBytes) {
    Status s = SendFrame(fd_, kDropWrite, 0, std::string_view(buf_).substr(off, kFrameBytes));
    if (!s.ok()) return s;
  }
  buf_.clear();
  return Status::Ok();
}

Status DropClient::Append(std::string_view data) {
  size_ += data.size();
  // A frame's worth or more with nothing held (the Injector's batches) is
  // sent from where it lies, not copied into buf_ first.
  while (buf_.empty() && data.size() >= kFrameBytes) {
    size_t n = std::min(data.size(), kMaxFrameBytes);
    Status s = SendFrame(fd_, kDropWrite, 0, data.substr(0, n));
    if (!s.ok()) return s;
    data.remove_prefix(n);
  }
  buf_.append(data);
  return buf_.size() >= kFrameBytes ? Flush() : Status::Ok();
}

Status DropClient::Reserve(uint64_t bytes) {
  uint64_t want = size_ + bytes;
  if (want <= reserved_) return Status::Ok();
  Status s = Flush();
  if (s.ok()) s = Call(kDropReserve, want, {});
  if (s.ok()) reserved_ = want;
  return s;
}

Status DropClient::Commit() {
  Status s = Flush();
  if (s.ok()) s = Call(kDropCommit, 0, {});
  temp_path_.clear();  // committed, or removed by the child
  return s;
}

void DropClient::Abort() {
  if (temp_path_.empty()) return;
  temp_path_.clear();
  buf_.clear();
  DropReply r;
  Exchange(fd_, kDropAbort, 0, {}, &r);
}

Status DropFlushTrigger(int fd, const SpoolPaths& paths) {
  DropReply r;
  Status s = Exchange(fd, kDropFlush, 0, paths.root, &r);
  if (s.ok() && r.step == kStepSpool) return SpoolMismatch(paths);
  if (s.ok() && r.err != 0)
    s = Status::FromErrno(r.err, "cannot ask relayd to flush the queue: " + paths.trigger(Trigger::kFlush));
  return s;
}

// The parent's side of the split; the child runs drop.cc alone.
bool SplitOffDropper(const char* config_path, int* fd, pid_t* pid) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  if ((*pid = fork()) == 0) RunDropper(sv, config_path);
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
