#include "relay/queue/operations.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/base/env.h"

namespace relay {

const char* EntryPlaceName(EntryPlace place) {
  switch (place) {
    case EntryPlace::kQueued: return "queue";
    case EntryPlace::kHeld: return "hold";
    case EntryPlace::kFailed: return "failed";
  }
  return "queue";
}

bool LocateEntry(const SpoolPaths& paths, const std::string& id, std::string* path, EntryPlace* place) {
  for (const auto& [file, where] : {std::pair{paths.queue_file(id), EntryPlace::kQueued},
                                    std::pair{paths.hold_file(id), EntryPlace::kHeld},
                                    std::pair{paths.failed_file(id), EntryPlace::kFailed}}) {
    if (access(file.c_str(), F_OK) == 0) {
      *path = file;
      *place = where;
      return true;
    }
  }
  return false;
}

std::string EntryStatePath(const SpoolPaths& paths, const std::string& id, EntryPlace place) {
  return place == EntryPlace::kFailed ? paths.failed_state_file(id) : paths.state_file(id);
}

bool LoadEntryState(const SpoolPaths& paths, const std::string& id, EntryPlace place, size_t nrcpts,
                    DeliveryState* st) {
  std::string text;
  return Env::Default()->ReadFile(EntryStatePath(paths, id, place), &text, nullptr).ok() &&
         ParseState(text, nrcpts, st).ok();
}

namespace {

bool MoveEntry(const std::string& from, const std::string& to, const std::string& to_dir) {
  bool exists = false;
  if (!Env::Default()->RenameNoReplace(from, to, &exists).ok()) return false;
  Env::Default()->SyncDir(to_dir);
  return true;
}

}  // namespace

bool HoldEntry(const SpoolPaths& paths, const std::string& id) {
  return MoveEntry(paths.queue_file(id), paths.hold_file(id), paths.hold());
}

bool ReleaseEntry(const SpoolPaths& paths, const std::string& id) {
  if (!MoveEntry(paths.hold_file(id), paths.queue_file(id), paths.queue())) return false;
  QueueEntryInfo info;
  if (ReadQueueEntryInfo(paths.queue_file(id), &info).ok())
    MakeEntryDue(paths, id, info.envelope.recipients.size());
  return true;
}

Status DeleteEntry(const SpoolPaths& paths, const std::string& id, const std::string& path, EntryPlace place) {
  if (unlink(path.c_str()) != 0)
    return Status::TempFail("cannot delete " + path + ": " + std::strerror(errno));
  unlink(paths.state_file(id).c_str());
  if (place == EntryPlace::kFailed) unlink(paths.failed_state_file(id).c_str());
  return Status::Ok();
}

void MakeEntryDue(const SpoolPaths& paths, const std::string& id, size_t nrcpts) {
  DeliveryState st;
  if (!LoadEntryState(paths, id, EntryPlace::kQueued, nrcpts, &st)) return;
  st.next_attempt_micros = 0;
  Env::Default()->WriteFileAtomic(paths.state_file(id), EncodeState(st), 0600);
}

Status WakeRelayd(const SpoolPaths& paths, Trigger trigger) {
  std::string path = paths.trigger(trigger);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EACCES || errno == EPERM))
    return Status::NoPerm("cannot create " + path + ": " + std::strerror(errno));
  if (fd < 0 && errno != EEXIST) return Status::FromErrno(errno, "cannot create " + path);
  if (fd >= 0) close(fd);
  return Status::Ok();
}

}  // namespace relay
