// FaultEnv: an Env for tests that fails a chosen operation with a chosen
// errno, as leveldb's FaultInjectionTestEnv does, and can model a power
// cut: DropUnsyncedData() truncates every file to what was last fsynced and
// undoes names whose directory was not fsynced afterwards.
#ifndef RELAY_TESTS_FAULT_ENV_H_
#define RELAY_TESTS_FAULT_ENV_H_

#include <map>
#include <set>
#include <string>

#include "relay/base/env.h"

namespace relay::testing {

enum class Op { kCreate, kWrite, kSync, kClose, kRename, kLink, kRemove, kSyncDir, kRead };

class FaultEnv : public EnvWrapper {
 public:
  FaultEnv() : EnvWrapper(Env::Default()) {}

  // The nth (1-based) call of op from now on fails with err.
  void FailNth(Op op, int nth, int err) {
    fail_op_ = op;
    fail_at_ = count_[op] + nth;
    fail_errno_ = err;
  }
  int Count(Op op) const {
    auto it = count_.find(op);
    return it == count_.end() ? 0 : it->second;
  }
  void SetNow(int64_t micros) { now_ = micros; }
  // From now on RenameExclusive fails as on a file system without
  // renameat2, so RenameNoReplace falls back to LinkFile + RemoveFile.
  void LackRenameat2() { no_renameat2_ = true; }

  // Simulates losing power: see the comment at the top.
  void DropUnsyncedData();

  Status NewExclusiveFile(const std::string& path, mode_t mode,
                          std::unique_ptr<WritableFile>* file, bool* exists) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  // One kLink check per RenameNoReplace, whichever way it goes.
  Status RenameExclusive(const std::string& from, const std::string& to, bool* exists,
                         bool* unsupported) override;
  Status LinkFile(const std::string& from, const std::string& to, bool* exists) override;
  Status RemoveFile(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status ReadFile(const std::string& path, std::string* data, bool* missing) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) override;
  int64_t NowMicros() override { return now_ ? now_ : target()->NowMicros(); }

  // Called by the files this Env hands out.
  Status Check(Op op);
  void NoteSynced(const std::string& path, uint64_t size) { synced_size_[path] = size; }

 private:
  std::map<Op, int> count_;
  Op fail_op_ = Op::kRead;
  int fail_at_ = -1;
  int fail_errno_ = 0;
  int64_t now_ = 0;
  bool no_renameat2_ = false;
  // Power-cut model.
  std::map<std::string, uint64_t> synced_size_;     // path -> bytes fsynced
  std::set<std::string> unsynced_names_;             // created, dir not synced
  std::map<std::string, std::string> unsynced_renames_;  // new name -> old name
};

}  // namespace relay::testing

#endif  // RELAY_TESTS_FAULT_ENV_H_
