// The privileged part of the setgid sendmail, as Postfix's postdrop is
// its door's: the only code that runs with the spool group.
//
// A setgid sendmail run by anyone but root forks first thing, before it
// reads an argument, the environment or standard input. The child keeps
// the group and runs src/inject/drop.cc and drop_config.cc alone: it
// reads spool_dir from the default relay.conf, then serves requests on a
// socket; the parent gives up the group for good (real, effective, saved
// and file-system GID all the caller's own) and does everything else:
// arguments, configuration, aliases, headers, addresses, the SMTP
// dialogue of -bs. The child never
// parses a message: it creates tmp/<id>, writes the bytes it is sent,
// reserves space, fsyncs and links the entry into queue/ (the commit
// protocol of queue/spool.h), or creates queue/.flush for sendmail -q.
// Standard input, output and error are /dev/null in the child.
//
// Requests (parent to child): an op byte, a 64-bit argument and a 32-bit
// payload length, then the payload. Replies (Begin, Reserve, Commit,
// Abort, Flush; Write has none, its error comes with the next reply): an
// errno (0: done) and the DropStep that failed. End of file, or a signal,
// before a Commit removes the temporary file.
#ifndef RELAY_INJECT_DROP_H_
#define RELAY_INJECT_DROP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "relay/queue/spool.h"

namespace relay {

enum DropOp : char {
  kDropBegin = 'B',    // payload: spool_dir '\0' id; argument: the file's mode
  kDropWrite = 'W',    // payload: bytes to append
  kDropReserve = 'R',  // argument: the size to reserve space up to
  kDropCommit = 'C',
  kDropAbort = 'A',
  kDropFlush = 'F',    // create queue/.flush (sendmail -q)
};

// What failed, for the parent's message: the same words QueueWriter uses.
enum DropStep : int32_t {
  kStepNone, kStepCreate, kStepChmod, kStepWrite, kStepReserve, kStepTruncate, kStepFsync,
  kStepClose, kStepRename, kStepLink, kStepUnlink, kStepOpenDir, kStepFsyncDir, kStepSpool,
  kStepFlush, kStepRequest,
};

struct DropReply {
  int32_t err = 0;
  int32_t step = kStepNone;
};

// Called first by a setgid sendmail whose caller is not root. Forks; the
// child serves the parent until end of file and never returns. In the
// parent, *fd is its end of the socket and *pid the child; the group is
// gone for good. Returns false (errno set) if the split failed; the caller
// must then give up the group itself and not queue. (In drop_client.cc:
// with the group held, the parent only makes the socket pair, forks and
// gives the group up.)
bool SplitOffDropper(const char* config_path, int* fd, pid_t* pid);

// The child's side, all of it in src/inject/drop.cc and drop_config.cc:
// closes sv[0], serves requests on sv[1] and never returns.
[[noreturn]] void RunDropper(const int sv[2], const char* config_path);

// spool_dir read from config as ParseConfig reads it, into spool (size
// bytes); the default when the file does not exist. False: unreadable.
bool ReadDropSpoolDir(const char* config, char* spool, size_t size);

// The parent's side: one entry at a time through the child on fd.
class DropClient : public MessageSink {
 public:
  DropClient(int fd, const SpoolPaths& paths) : fd_(fd), paths_(paths) {}
  ~DropClient() override;  // Aborts unless committed.
  DropClient(const DropClient&) = delete;
  DropClient& operator=(const DropClient&) = delete;

  Status Begin(const std::string& id, mode_t mode, bool* exists) override;
  Status Append(std::string_view data) override;
  uint64_t Size() const override { return size_; }
  Status Reserve(uint64_t bytes) override;
  Status Commit() override;
  void Abort() override;
  const std::string& temp_path() const override { return temp_path_; }

 private:
  Status Call(DropOp op, uint64_t arg, std::string_view payload);
  Status Send(DropOp op, uint64_t arg, std::string_view payload);
  Status Flush();
  Status Failure(const DropReply& r) const;

  int fd_;
  SpoolPaths paths_;
  std::string id_;
  std::string temp_path_;
  std::string buf_;
  uint64_t size_ = 0;
  uint64_t reserved_ = 0;
};

// sendmail -q from a caller who is not root: asks the child on fd to
// create queue/.flush (an existing one is fine).
Status DropFlushTrigger(int fd, const SpoolPaths& paths);

}  // namespace relay

#endif  // RELAY_INJECT_DROP_H_
