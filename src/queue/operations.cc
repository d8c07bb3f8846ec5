#include "relay/queue/operations.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/base/env.h"
#include "relay/message/downgrade.h"

namespace relay {

LoadedMessage::~LoadedMessage() {
  if (fd >= 0) close(fd);
}

Status LoadMessage(const SpoolPaths& paths, const std::string& id, LoadedMessage* m) {
  m->id = id;
  std::string path = paths.queue_file(id);
  m->fd = OpenQueueFile(path);
  if (m->fd < 0) {
    if (errno == ELOOP) return Status::DataErr("queue entry is a symbolic link");
    return Status::FromErrno(errno, "open " + path);
  }
  struct stat st, dir;
  if (fstat(m->fd, &st) != 0) return Status::FromErrno(errno, "stat " + path);
  if (stat(paths.queue().c_str(), &dir) != 0) return Status::FromErrno(errno, "stat " + paths.queue());
  Status s = CheckQueueFileStat(st);
  if (!s.ok()) return s;
  size_t head_size = 0;
  bool complete = false;
  s = ReadQueueHead(m->fd, static_cast<uint64_t>(st.st_size), &m->env, &head_size, &m->trailer, &complete);
  if (!s.ok()) return s;
  if (!complete) return Status::DataErr("queue file has no end record matching its size");
  m->env.uid = SubmitterUid(st, dir.st_uid, m->env.uid);
  m->content_offset = head_size;
  if (m->env.id != id) return Status::DataErr("queue file id does not match its name");
  if (m->trailer.eight_bit) {
    // Only the header block decides whether a 7-bit downgrade is possible.
    std::string hdr(std::min<uint64_t>(m->trailer.content_size, (1u << 20) + 65536), '\0');
    ssize_t got = pread(m->fd, hdr.data(), hdr.size(), static_cast<off_t>(head_size));
    if (got > 0) {
      hdr.resize(static_cast<size_t>(got));
      size_t end = hdr.find("\r\n\r\n");
      if (end != std::string::npos) hdr.resize(end + 4);
      m->can_downgrade = CanDowngrade(hdr);
    }
  }

  std::string text;
  bool missing = false;
  s = Env::Default()->ReadFile(paths.state_file(id), &text, &missing);
  if (missing) {
    m->state = DeliveryState();
    m->state.rcpts.assign(m->env.recipients.size(), RcptStatus());
    return Status::Ok();
  }
  if (!s.ok()) return s;
  if (!ParseState(text, m->env.recipients.size(), &m->state).ok()) {
    // A damaged state file loses only progress: start again from the queue
    // file (possible duplicates, no loss).
    m->state = DeliveryState();
    m->state.rcpts.assign(m->env.recipients.size(), RcptStatus());
  }
  return Status::Ok();
}

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
