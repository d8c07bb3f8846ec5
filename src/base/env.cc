#include "relay/base/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <climits>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <linux/fs.h>
#include <ctime>

namespace relay {
namespace {

// Retries a call interrupted by a signal.
template <typename F>
auto NoIntr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

Status WriteAll(int fd, const char* p, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = NoIntr([&] { return ::write(fd, p, n); });
    if (w < 0) return Status::FromErrno(errno, "write " + what);
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    buf_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kBufferSize) {
      buf_.append(data);
      return Status::Ok();
    }
    Status s = Flush();
    if (!s.ok()) return s;
    // Large appends go straight to the file; small ones start a new buffer.
    if (data.size() >= kBufferSize) {
      s = WriteAll(fd_, data.data(), data.size(), path_);
      if (s.ok()) StartWriteback();
      return s;
    }
    buf_.append(data);
    return Status::Ok();
  }

  Status Sync() override {
    Status s = Flush();
    if (!s.ok()) return s;
    // Space reserved beyond the end goes back (truncating to the same size
    // frees blocks past it) before the entry is made durable.
    if (reserved_ > size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      return Status::FromErrno(errno, "truncate " + path_);
    reserved_ = 0;
    // A failed fsync is never retried: after it the kernel may have dropped
    // the dirty pages and a second fsync would falsely succeed.
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fsync " + path_);
    return Status::Ok();
  }

  Status Close() override {
    Status s = Flush();
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = Status::FromErrno(errno, "close " + path_);
    fd_ = -1;
    return s;
  }

  uint64_t Size() const override { return size_; }

  Status Reserve(uint64_t bytes) override {
    uint64_t want = size_ + bytes;
    if (want <= reserved_) return Status::Ok();
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(want)) != 0) {
      if (errno == EOPNOTSUPP || errno == ENOSYS) return Status::Ok();  // the check alone, then
      return Status::FromErrno(errno, "reserve space for " + path_);
    }
    reserved_ = want;
    return Status::Ok();
  }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;
  // Writeback of each whole chunk is started as soon as it is written (not
  // waited for): the disk works while the rest of a large message arrives,
  // and Sync's fdatasync waits only for the tail. Errors are left to that
  // fdatasync, which reports them. (inject/drop.cc does the same.)
  static constexpr uint64_t kWritebackChunk = 64ull << 20;

  Status Flush() {
    if (buf_.empty()) return Status::Ok();
    Status s = WriteAll(fd_, buf_.data(), buf_.size(), path_);
    buf_.clear();
    if (s.ok()) StartWriteback();
    return s;
  }

  void StartWriteback() {
    uint64_t whole = (size_ - buf_.size()) / kWritebackChunk * kWritebackChunk;
    if (whole <= written_back_) return;
    ::sync_file_range(fd_, static_cast<off_t>(written_back_), static_cast<off_t>(whole - written_back_),
                      SYNC_FILE_RANGE_WRITE);
    written_back_ = whole;
  }

  std::string path_;
  int fd_;
  std::string buf_;
  uint64_t size_ = 0;
  uint64_t reserved_ = 0;  // allocated through this offset (Reserve)
  uint64_t written_back_ = 0;  // writeback started through this offset
};

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class PosixEnv : public Env {
 public:
  Status NewExclusiveFile(const std::string& path, mode_t mode,
                          std::unique_ptr<WritableFile>* file, bool* exists) override {
    if (exists) *exists = false;
    int fd = NoIntr([&] {
      return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    });
    if (fd < 0) {
      if (errno == EEXIST && exists) *exists = true;
      return Status::FromErrno(errno, "create " + path);
    }
    // Held while the file is written: relayd's sweep of old temporary
    // files leaves alone any that a live writer still holds.
    ::flock(fd, LOCK_EX | LOCK_NB);
    // The umask may have narrowed the mode; the spool's modes are part of
    // its security design, so set them exactly.
    if (::fchmod(fd, mode) != 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::FromErrno(err, "chmod " + path);
    }
    *file = std::make_unique<PosixWritableFile>(path, fd);
    return Status::Ok();
  }

  Status WriteFileAtomic(const std::string& path, std::string_view data,
                         mode_t mode) override {
    std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());  // a leftover from a crash
    std::unique_ptr<WritableFile> f;
    Status s = NewExclusiveFile(tmp, mode, &f, nullptr);
    if (!s.ok()) return s;
    s = f->Append(data);
    if (s.ok()) s = f->Sync();
    if (s.ok()) s = f->Close();
    if (s.ok()) s = RenameFile(tmp, path);
    if (s.ok()) s = SyncDir(DirName(path));
    if (!s.ok()) ::unlink(tmp.c_str());
    return s;
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return Status::FromErrno(errno, "rename " + from + " to " + to);
    return Status::Ok();
  }

  Status RenameExclusive(const std::string& from, const std::string& to, bool* exists,
                         bool* unsupported) override {
    if (exists) *exists = false;
    if (unsupported) *unsupported = false;
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
      return Status::Ok();
    if (errno == EEXIST && exists) *exists = true;
    if ((errno == EINVAL || errno == ENOSYS) && unsupported) *unsupported = true;
    return Status::FromErrno(errno, "rename " + from + " to " + to);
  }

  Status LinkFile(const std::string& from, const std::string& to, bool* exists) override {
    if (exists) *exists = false;
    if (::link(from.c_str(), to.c_str()) == 0) return Status::Ok();
    if (errno == EEXIST && exists) *exists = true;
    return Status::FromErrno(errno, "link " + from + " to " + to);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "unlink " + path);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = NoIntr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return Status::FromErrno(errno, "open " + dir);
    Status s;
    if (::fsync(fd) != 0) s = Status::FromErrno(errno, "fsync " + dir);
    ::close(fd);
    return s;
  }

  Status ReadFile(const std::string& path, std::string* data, bool* missing) override {
    if (missing) *missing = false;
    data->clear();
    int fd = NoIntr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
      if (errno == ENOENT && missing) *missing = true;
      return Status::FromErrno(errno, "open " + path);
    }
    char buf[16384];
    for (;;) {
      ssize_t n = NoIntr([&] { return ::read(fd, buf, sizeof buf); });
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno(err, "read " + path);
      }
      if (n == 0) break;
      data->append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return Status::Ok();
  }

  Status ListDir(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (!d) return Status::FromErrno(errno, "open " + dir);
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names->emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Status::FromErrno(err, "read " + dir);
    return Status::Ok();
  }

  Status CreateDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
      return Status::FromErrno(errno, "mkdir " + path);
    return Status::Ok();
  }

  int64_t NowMicros() override {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv;
  return env;
}

#ifndef RELAY_LIBEXECDIR
#define RELAY_LIBEXECDIR "/usr/lib/relay"
#endif

// renameat2(RENAME_NOREPLACE) is atomic and keeps one link, so a reader
// woken by inotify never sees the file under two names. File systems
// without it get link() + unlink(), which also never replaces.
Status Env::RenameNoReplace(const std::string& from, const std::string& to, bool* exists,
                            bool* from_left) {
  if (from_left) *from_left = false;
  bool unsupported = false;
  Status s = RenameExclusive(from, to, exists, &unsupported);
  if (s.ok() || !unsupported) return s;
  s = LinkFile(from, to, exists);
  if (!s.ok()) return s;
  // to is complete and visible from here on: a failure now must not make
  // the caller write the message again.
  if (!RemoveFile(from).ok() && from_left) *from_left = true;
  return Status::Ok();
}

std::string HelperPath(const std::string& name) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    std::string p = dir.substr(0, dir.rfind('/')) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return std::string(RELAY_LIBEXECDIR) + "/" + name;
}

}  // namespace relay
