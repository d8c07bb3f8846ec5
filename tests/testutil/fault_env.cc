#include "testutil/fault_env.h"

#include <unistd.h>

#include <cerrno>

namespace relay::testing {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

class FaultFile : public WritableFile {
 public:
  FaultFile(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    Status s = env_->Check(Op::kWrite);
    return s.ok() ? base_->Append(data) : s;
  }
  Status Sync() override {
    Status s = env_->Check(Op::kSync);
    if (s.ok()) s = base_->Sync();
    if (s.ok()) env_->NoteSynced(path_, base_->Size());
    return s;
  }
  Status Close() override {
    Status s = env_->Check(Op::kClose);
    return s.ok() ? base_->Close() : s;
  }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

Status FaultEnv::Check(Op op) {
  if (++count_[op] == fail_at_ && op == fail_op_) {
    return Status::FromErrno(fail_errno_, "injected fault");
  }
  return Status::Ok();
}

Status FaultEnv::NewExclusiveFile(const std::string& path, mode_t mode,
                                  std::unique_ptr<WritableFile>* file, bool* exists) {
  Status s = Check(Op::kCreate);
  if (!s.ok()) return s;
  std::unique_ptr<WritableFile> base;
  s = target()->NewExclusiveFile(path, mode, &base, exists);
  if (!s.ok()) return s;
  synced_size_[path] = 0;
  unsynced_names_.insert(path);
  *file = std::make_unique<FaultFile>(this, path, std::move(base));
  return s;
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = Check(Op::kRename);
  if (s.ok()) s = target()->RenameFile(from, to);
  if (s.ok()) {
    unsynced_renames_[to] = from;
    synced_size_[to] = synced_size_[from];
  }
  return s;
}

Status FaultEnv::RenameExclusive(const std::string& from, const std::string& to, bool* exists,
                                 bool* unsupported) {
  if (no_renameat2_) {
    if (exists) *exists = false;
    if (unsupported) *unsupported = true;
    return Status::FromErrno(EINVAL, "rename " + from + " to " + to);
  }
  Status s = Check(Op::kLink);
  if (s.ok()) s = target()->RenameExclusive(from, to, exists, unsupported);
  if (s.ok()) {
    unsynced_renames_[to] = from;
    synced_size_[to] = synced_size_[from];
  }
  return s;
}

Status FaultEnv::LinkFile(const std::string& from, const std::string& to, bool* exists) {
  Status s = Check(Op::kLink);
  if (s.ok()) s = target()->LinkFile(from, to, exists);
  if (s.ok()) {
    unsynced_names_.insert(to);
    synced_size_[to] = synced_size_[from];
  }
  return s;
}

Status FaultEnv::RemoveFile(const std::string& path) {
  Status s = Check(Op::kRemove);
  return s.ok() ? target()->RemoveFile(path) : s;
}

Status FaultEnv::SyncDir(const std::string& dir) {
  Status s = Check(Op::kSyncDir);
  if (!s.ok()) return s;
  s = target()->SyncDir(dir);
  if (!s.ok()) return s;
  for (auto it = unsynced_names_.begin(); it != unsynced_names_.end();)
    it = DirOf(*it) == dir ? unsynced_names_.erase(it) : std::next(it);
  for (auto it = unsynced_renames_.begin(); it != unsynced_renames_.end();)
    it = DirOf(it->first) == dir ? unsynced_renames_.erase(it) : std::next(it);
  return s;
}

Status FaultEnv::ReadFile(const std::string& path, std::string* data, bool* missing) {
  Status s = Check(Op::kRead);
  return s.ok() ? target()->ReadFile(path, data, missing) : s;
}

Status FaultEnv::WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  // Composed from the primitives above so that each step can fail.
  std::string tmp = path + ".tmp";
  target()->RemoveFile(tmp);
  std::unique_ptr<WritableFile> f;
  Status s = NewExclusiveFile(tmp, mode, &f, nullptr);
  if (s.ok()) s = f->Append(data);
  if (s.ok()) s = f->Sync();
  if (s.ok()) s = f->Close();
  if (s.ok()) s = RenameFile(tmp, path);
  if (s.ok()) s = SyncDir(DirOf(path));
  if (!s.ok()) target()->RemoveFile(tmp);
  return s;
}

void FaultEnv::DropUnsyncedData() {
  // A rename whose directory was not synced is undone...
  for (const auto& [to, from] : unsynced_renames_) {
    if (unsynced_names_.count(from)) {
      ::unlink(to.c_str());  // ...and the old name never existed durably either
    } else {
      ::rename(to.c_str(), from.c_str());
    }
  }
  for (const std::string& name : unsynced_names_) ::unlink(name.c_str());
  for (const auto& [path, size] : synced_size_)
    if (::access(path.c_str(), F_OK) == 0) (void)::truncate(path.c_str(), static_cast<off_t>(size));
  unsynced_renames_.clear();
  unsynced_names_.clear();
}

}  // namespace relay::testing
