// Env: the seam between relay's logic and the operating system's files and
// clock, after leveldb's Env. Everything that must be durable goes through
// it, so tests can swap in a FaultEnv (tests/testutil/fault_env.h) that fails
// a chosen write, fsync, link or rename with ENOSPC, EIO or EDQUOT, or forgets
// every byte that was not fsynced, as a power cut would.
//
// Every method returns a Status; errno is turned into one by
// Status::FromErrno and never escapes. None of them calls exit().
#ifndef RELAY_BASE_ENV_H_
#define RELAY_BASE_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"

namespace relay {

// A file being written, buffered. Append may keep data in memory; Sync
// writes everything out and fsyncs it; Close flushes but does not sync.
// After a failure the file is in an unknown state and must be discarded.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t Size() const = 0;
  // Takes disk space now for the next `bytes` bytes after Size(), without
  // changing the size (fallocate KEEP_SIZE), so that other writers' free
  // space checks see it. A TempFail when the disk is full; Ok where the
  // file system cannot reserve. Sync gives back what was not used.
  virtual Status Reserve(uint64_t bytes) {
    (void)bytes;
    return Status::Ok();
  }
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide real environment. Never deleted.
  static Env* Default();

  // Creates path with O_CREAT|O_EXCL|O_NOFOLLOW and the given mode. Fails
  // with a TempFail status if it exists (EEXIST) or anything else goes
  // wrong; *exists is set to true when the failure was EEXIST.
  virtual Status NewExclusiveFile(const std::string& path, mode_t mode,
                                  std::unique_ptr<WritableFile>* file,
                                  bool* exists) = 0;
  // Atomically replaces (or creates) path with data: writes a temporary
  // beside it, fsyncs, renames, fsyncs the directory.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data,
                                 mode_t mode) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Like RenameFile, but fails with *exists = true instead of replacing an
  // existing target: RenameExclusive where the file system has it, else
  // LinkFile + RemoveFile (made through this Env's own calls, so that a
  // test Env can fail each step). Once the link is made, the rename has
  // happened: if from cannot then be removed, the result is still Ok (to
  // is complete; reporting a failure would have the caller submit it
  // again), *from_left is set, and from is left to the spool's tmp/ sweep.
  Status RenameNoReplace(const std::string& from, const std::string& to, bool* exists,
                         bool* from_left = nullptr);
  // renameat2(RENAME_NOREPLACE) alone: a failed status with *unsupported =
  // true on a file system without it (EINVAL, ENOSYS).
  virtual Status RenameExclusive(const std::string& from, const std::string& to,
                                 bool* exists, bool* unsupported) = 0;
  // link(2): a second name for from, never replacing to (*exists = true
  // when it is there).
  virtual Status LinkFile(const std::string& from, const std::string& to, bool* exists) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // fsyncs a directory, making the names created in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Reads a whole (small) file. A missing file gives a TempFail status and
  // *missing = true when missing is non-null.
  virtual Status ReadFile(const std::string& path, std::string* data,
                          bool* missing) = 0;
  // Names in dir, without "." and "..", in no particular order.
  virtual Status ListDir(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status CreateDir(const std::string& path, mode_t mode) = 0;

  // Microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
};

// An Env that forwards every call to another; tests override what they need.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Status NewExclusiveFile(const std::string& path, mode_t mode,
                          std::unique_ptr<WritableFile>* file, bool* exists) override {
    return target_->NewExclusiveFile(path, mode, file, exists);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data,
                         mode_t mode) override {
    return target_->WriteFileAtomic(path, data, mode);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status RenameExclusive(const std::string& from, const std::string& to, bool* exists,
                         bool* unsupported) override {
    return target_->RenameExclusive(from, to, exists, unsupported);
  }
  Status LinkFile(const std::string& from, const std::string& to, bool* exists) override {
    return target_->LinkFile(from, to, exists);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Status ReadFile(const std::string& path, std::string* data, bool* missing) override {
    return target_->ReadFile(path, data, missing);
  }
  Status ListDir(const std::string& dir, std::vector<std::string>* names) override {
    return target_->ListDir(dir, names);
  }
  Status CreateDir(const std::string& path, mode_t mode) override {
    return target_->CreateDir(path, mode);
  }
  int64_t NowMicros() override { return target_->NowMicros(); }

 private:
  Env* target_;
};

// Where one of relay's helper programs is (relay-deliver, relay-smtpd,
// relay-https-post): beside the running program when it is there (a build
// tree), else in the installed libexec directory.
std::string HelperPath(const std::string& name);

}  // namespace relay

#endif  // RELAY_BASE_ENV_H_
