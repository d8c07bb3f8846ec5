#include "relay/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace relay {

Status CreatePrivateSpool(Env* env, const SpoolPaths& paths) {
  for (const std::string& dir : {paths.root, paths.tmp(), paths.queue(), paths.state(),
                                 paths.failed(), paths.corrupt(), paths.hold()}) {
    Status s = env->CreateDir(dir, 0700);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

QueueWriter::~QueueWriter() { Abort(); }

Status QueueWriter::Begin(const std::string& id, mode_t mode, bool* exists) {
  id_ = id;
  temp_path_ = paths_.tmp() + "/" + id;
  Status s = env_->NewExclusiveFile(temp_path_, mode, &file_, exists);
  if (!s.ok()) temp_path_.clear();  // not ours to remove
  return s;
}

Status QueueWriter::Append(std::string_view data) { return file_->Append(data); }

uint64_t QueueWriter::Size() const { return file_ ? file_->Size() : 0; }

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

Status ReadQueueEntryInfo(const std::string& path, QueueEntryInfo* info) {
  *info = QueueEntryInfo();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "stat " + path);
  }
  std::string head;
  size_t head_size = 0;
  Status s;
  // Most heads fit in the first read; many recipients need more.
  for (size_t want = 4096;; want *= 4) {
    head.resize(want);
    ssize_t n = ::pread(fd, head.data(), want, 0);
    if (n < 0) {
      s = Status::FromErrno(errno, "read " + path);
      break;
    }
    head.resize(static_cast<size_t>(n));
    bool incomplete = false;
    s = ParseHead(head, &info->envelope, &head_size, &incomplete);
    if (!incomplete || static_cast<size_t>(n) < want) break;
  }
  if (s.ok()) {
    char tail[128];
    off_t off = st.st_size > static_cast<off_t>(sizeof tail) ? st.st_size - sizeof tail : 0;
    ssize_t n = ::pread(fd, tail, sizeof tail, off);
    Trailer t;
    size_t trailer_size = 0;
    if (n > 0 && ParseTrailer(std::string_view(tail, static_cast<size_t>(n)), &t,
                              &trailer_size).ok()) {
      info->content_size = t.content_size;
      info->complete = head_size + t.content_size + trailer_size ==
                       static_cast<uint64_t>(st.st_size);
    }
  }
  ::close(fd);
  return s;
}

}  // namespace relay
