#include "relay/queue/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace relay {

Status CreatePrivateSpool(Env* env, const SpoolPaths& paths) {
  // The common case on every injection: everything exists (hold/ is made
  // last), and one stat replaces seven mkdir calls.
  struct stat st;
  if (::stat(paths.hold().c_str(), &st) == 0) return Status::Ok();
  for (const std::string& dir : {paths.root, paths.tmp(), paths.queue(), paths.state(),
                                 paths.failed(), paths.corrupt(), paths.hold()}) {
    Status s = env->CreateDir(dir, 0700);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

namespace {

std::string RepairHint(const SpoolPaths& paths) {
  return "(as root: scripts/install-spool " + paths.root + ", or install the relay package)";
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// One subdirectory against the owner of queue/.
Status CheckSpoolDir(const SpoolPaths& paths, const std::string& dir, uid_t owner) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      return Status::TempFail("the spool " + paths.root + " is incomplete: " + dir + " is missing " +
                              RepairHint(paths));
    return Status::FromErrno(e, "stat " + dir);
  }
  if (!S_ISDIR(st.st_mode))
    return Status::TempFail(dir + " is not a directory " + RepairHint(paths));
  if (st.st_uid != owner)
    return Status::TempFail(dir + " belongs to uid " + std::to_string(st.st_uid) + ", but the spool (" +
                            paths.queue() + ") to uid " + std::to_string(owner) +
                            ", as whom relayd runs " + RepairHint(paths));
  if ((st.st_mode & S_IRWXU) != S_IRWXU)
    return Status::TempFail(dir + " has mode " + OctalMode(st.st_mode) +
                            ": its owner, relayd, cannot use it " + RepairHint(paths));
  return Status::Ok();
}

}  // namespace

Status CheckSpoolForInjection(const SpoolPaths& paths) {
  struct stat st;
  if (::stat(paths.queue().c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      return Status::TempFail("no spool at " + paths.root + "; sendmail does not create it " +
                              RepairHint(paths));
    return Status::FromErrno(e, "stat " + paths.queue());
  }
  if (!S_ISDIR(st.st_mode)) return Status::TempFail(paths.queue() + " is not a directory " + RepairHint(paths));
  if (st.st_uid == 0)
    return Status::TempFail(paths.queue() + " belongs to root, and relayd never delivers as root: give the spool "
                            "to the relay user " + RepairHint(paths));
  Status s = CheckSpoolDir(paths, paths.queue(), st.st_uid);
  for (const std::string& dir :
       {paths.tmp(), paths.state(), paths.failed(), paths.corrupt(), paths.hold()}) {
    if (!s.ok()) break;
    s = CheckSpoolDir(paths, dir, st.st_uid);
  }
  return s;
}

Status CheckSpoolOwner(const SpoolPaths& paths, uid_t relay_uid, const std::string& relay_user) {
  struct stat st;
  if (::stat(paths.queue().c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + paths.queue());
  if (st.st_uid == relay_uid) return Status::Ok();
  return Status::TempFail(paths.queue() + " belongs to uid " + std::to_string(st.st_uid) + ", not to the " +
                          relay_user + " user (uid " + std::to_string(relay_uid) +
                          ") as whom relayd runs " + RepairHint(paths));
}

QueueWriter::~QueueWriter() { Abort(); }

Status QueueWriter::Begin(const std::string& id, mode_t mode, bool* exists) {
  id_ = id;
  temp_path_ = paths_.tmp_file(id);
  Status s = env_->NewExclusiveFile(temp_path_, mode, &file_, exists);
  if (!s.ok()) temp_path_.clear();  // not ours to remove
  return s;
}

Status QueueWriter::Append(std::string_view data) { return file_->Append(data); }

uint64_t QueueWriter::Size() const { return file_ ? file_->Size() : 0; }

Status QueueWriter::Reserve(uint64_t bytes) { return file_ ? file_->Reserve(bytes) : Status::Ok(); }

Status QueueWriter::Commit() {
  Status s = file_->Sync();
  if (s.ok()) s = file_->Close();
  bool exists = false;
  if (s.ok()) s = env_->RenameNoReplace(temp_path_, paths_.queue_file(id_), &exists);
  if (!s.ok()) {
    Abort();
    return s;
  }
  file_.reset();
  s = env_->SyncDir(paths_.queue());
  if (!s.ok()) {
    // The entry is visible but we cannot promise it survives a crash, so
    // the caller gets a temporary failure and we take the entry back. If
    // relayd already picked it up, the caller's retry makes a duplicate:
    // the price of never reporting success for a message we might lose.
    env_->RemoveFile(paths_.queue_file(id_));
    temp_path_.clear();
    return s;
  }
  committed_ = true;
  return s;
}

void QueueWriter::Abort() {
  if (committed_ || temp_path_.empty()) return;
  file_.reset();
  env_->RemoveFile(temp_path_);
  temp_path_.clear();
}

Status CommitRelayMessage(Env* env, const SpoolPaths& paths, const Envelope& e,
                          const std::function<Status(const ContentSink&)>& write_content) {
  std::string head;
  Status s = EncodeHead(e, &head);
  if (!s.ok()) return s;
  QueueWriter w(env, paths);
  bool exists = false;
  s = w.Begin(e.id, 0600, &exists);
  if (s.ok()) s = w.Append(head);
  bool eight_bit = false;
  if (s.ok()) {
    s = write_content([&](std::string_view piece) {
      for (char c : piece) eight_bit |= static_cast<unsigned char>(c) >= 0x80;
      return w.Append(piece);
    });
  }
  if (s.ok()) s = w.Append(EncodeTrailer({w.Size() - head.size(), eight_bit}));
  if (s.ok()) s = w.Commit();
  return s;
}

Status KeepInFailed(Env* env, const SpoolPaths& paths, const std::string& id, std::string* kept) {
  std::string to = paths.failed_file(id);
  Status s = env->RenameFile(paths.queue_file(id), to);
  if (!s.ok()) return s;
  env->RenameFile(paths.state_file(id), paths.failed_state_file(id));
  *kept = to;
  return env->SyncDir(paths.failed());
}

Status ReadQueueHead(int fd, uint64_t file_size, Envelope* env, size_t* head_size,
                     Trailer* trailer, bool* complete) {
  *complete = false;
  std::string head;
  // Most heads fit in the first read; many recipients need more.
  for (size_t want = 8192;; want *= 4) {
    head.resize(want);
    ssize_t n = ::pread(fd, head.data(), want, 0);
    if (n < 0) return Status::FromErrno(errno, "read queue file");
    head.resize(static_cast<size_t>(n));
    bool incomplete = false;
    Status s = ParseHead(head, env, head_size, &incomplete);
    if (s.ok()) break;
    if (!incomplete || static_cast<size_t>(n) < want || want > (64u << 20)) return s;
  }
  char tail[128];
  off_t off = file_size > sizeof tail ? static_cast<off_t>(file_size - sizeof tail) : 0;
  ssize_t n = ::pread(fd, tail, sizeof tail, off);
  size_t trailer_size = 0;
  if (n > 0 && ParseTrailer(std::string_view(tail, static_cast<size_t>(n)), trailer, &trailer_size).ok())
    *complete = *head_size + trailer->content_size + trailer_size == file_size;
  return Status::Ok();
}

int OpenQueueFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO planted in queue/ would otherwise wait for
  // a writer forever (and hold the delivery lock meanwhile). It does not
  // change reads of a regular file.
  return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

Status CheckQueueFileStat(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return Status::DataErr("queue entry is not a regular file");
  // Two links: the injector is between link() and unlink(); not ready yet.
  if (st.st_nlink > 2) return Status::DataErr("queue entry has extra hard links");
  if (st.st_nlink == 2) return Status::TempFail("queue entry is still being committed");
  if (st.st_nlink == 0) return Status::DataErr("queue entry was removed while it was opened");
  // The injector writes 0600 or 0604: a file its group or others may
  // write could have been changed after it was queued.
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return Status::DataErr("queue entry is writable by group or others");
  return Status::Ok();
}

int64_t SubmitterUid(const struct stat& st, uid_t spool_owner, int64_t recorded) {
  if (st.st_uid == spool_owner) return recorded;
  return static_cast<int64_t>(st.st_uid);
}

Status ReadQueueEntryInfo(const std::string& path, QueueEntryInfo* info) {
  *info = QueueEntryInfo();
  int fd = OpenQueueFile(path);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  struct stat st, dir;
  Status s;
  if (::fstat(fd, &st) != 0) {
    s = Status::FromErrno(errno, "stat " + path);
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::DataErr(path + " is not a regular file");
  } else {
    size_t head_size = 0;
    Trailer t;
    s = ReadQueueHead(fd, static_cast<uint64_t>(st.st_size), &info->envelope, &head_size, &t, &info->complete);
    if (info->complete) info->content_size = t.content_size;
    std::string parent = path.substr(0, path.rfind('/') + 1) + ".";
    if (s.ok() && ::stat(parent.c_str(), &dir) == 0)
      info->envelope.uid = SubmitterUid(st, dir.st_uid, info->envelope.uid);
  }
  ::close(fd);
  return s;
}

Status CheckSpoolSpace(const SpoolPaths& paths, uint64_t min_free) {
  if (min_free == 0) return Status::Ok();
  struct statvfs vfs;
  if (::statvfs(paths.tmp().c_str(), &vfs) != 0) return Status::Ok();  // the write will tell
  uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (avail >= min_free) return Status::Ok();
  return Status::TempFail("the spool " + paths.tmp() + " has " + std::to_string(avail >> 20) +
                          " MiB free, below spool_min_free (" + std::to_string(min_free >> 20) + " MiB)");
}

}  // namespace relay
