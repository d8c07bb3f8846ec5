// The spool directory and the commit that makes a message durable.
//
// Layout under spool_dir (modes as installed; a private instance creates
// the directories 0700 for its own user):
//   tmp/      1730 relay:relaydrop  messages being written by sendmail
//   queue/    1770 relay:relaydrop  committed messages, one file per queue ID
//                                   (group read: sendmail must open the
//                                   directory to fsync it; the files stay
//                                   closed to the group, see sendmail(8))
//   state/    0700 relay            relayd's per-message delivery state
//   failed/   0700 relay            bounces that could not be delivered
//   corrupt/  0700 relay            entries relayd could not parse
//   hold/     0700 relay            entries put on hold (relayctl hold)
//
// Commit protocol (QueueWriter): create tmp/ID with O_EXCL|O_NOFOLLOW and a
// private mode; append the head, content and trailer; fdatasync; link it to
// queue/ID (failing, not replacing, if that exists) and unlink tmp/ID;
// fsync queue/. Only then is the message accepted. A crash before the link
// leaves a file in tmp/ only, which nothing delivers and relayd removes when
// stale; a crash after it leaves a complete entry. Every failure path
// removes the temporary file.
#ifndef RELAY_QUEUE_SPOOL_H_
#define RELAY_QUEUE_SPOOL_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/env.h"
#include "relay/queue/queue_file.h"
#include "relay/base/status.h"

namespace relay {

// The one place that spells the spool's paths (after leveldb's
// filename.h): every other part of relay names a directory, an entry's
// files or a trigger through these, never by string.
//
// Files beside the entries:
//   queue/.flush          trigger: deliver everything now and lift the
//                         smarthost pause (sendmail -q, relayctl flush)
//   queue/.wake           trigger: start a delivery run, nothing more
//                         (relayctl retry, relayctl bounce)
//   state/ID              an entry's delivery state (delivery_state.h)
//   state/.status         the run status (run_status.h)
//   state/.health         smarthost health and totals across runs (health.h)
//   state/.health.lock    flock'd while state/.health is read and rewritten
//   state/.deliver.lock   flock'd by relay-deliver: one run per spool
//   failed/ID.state       a failed entry's delivery state, kept beside it
//   queue/ID.corrupt      a corrupt entry that could not go to corrupt/
// Any new name in queue/ wakes relayd (inotify); the triggers are names no
// queue ID can take (IsQueueId), so no scan mistakes them for entries.
enum class Trigger { kFlush, kWake };

struct SpoolPaths {
  explicit SpoolPaths(std::string root) : root(std::move(root)) {}
  std::string root;
  std::string tmp() const { return root + "/tmp"; }
  std::string queue() const { return root + "/queue"; }
  std::string state() const { return root + "/state"; }
  std::string failed() const { return root + "/failed"; }
  std::string corrupt() const { return root + "/corrupt"; }
  std::string hold() const { return root + "/hold"; }
  std::string tmp_file(std::string_view id) const { return In(tmp(), id); }
  std::string queue_file(std::string_view id) const { return In(queue(), id); }
  std::string state_file(std::string_view id) const { return In(state(), id); }
  std::string hold_file(std::string_view id) const { return In(hold(), id); }
  std::string failed_file(std::string_view id) const { return In(failed(), id); }
  std::string failed_state_file(std::string_view id) const { return failed_file(id) + ".state"; }
  std::string corrupt_file(std::string_view id) const { return In(corrupt(), id); }
  // Where a corrupt entry goes when corrupt/ will not take it.
  std::string corrupt_aside_file(std::string_view id) const { return queue_file(id) + ".corrupt"; }
  std::string trigger(Trigger t) const { return In(queue(), TriggerName(t)); }
  std::string status_file() const { return In(state(), ".status"); }
  std::string deliver_lock() const { return In(state(), ".deliver.lock"); }
  std::string health_file() const { return In(state(), ".health"); }
  std::string health_lock() const { return In(state(), ".health.lock"); }

  // The file name (in queue/) of a trigger, and whether a name in queue/
  // is that trigger.
  static const char* TriggerName(Trigger t) { return t == Trigger::kFlush ? ".flush" : ".wake"; }
  static bool IsTrigger(std::string_view name, Trigger t) { return name == TriggerName(t); }

 private:
  static std::string In(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }
};

// Creates the spool's directories that are missing, mode 0700: for a
// private instance, whose user owns everything. An installed spool is made
// by the install step with the modes above instead.
Status CreatePrivateSpool(Env* env, const SpoolPaths& paths);

// Checks, before a message is accepted, that a queue runner will read
// this spool, so that no message is queued where it would stay forever:
// queue/ must exist (else: how to create the spool), must not belong to
// root (relayd never delivers as root), and tmp/, state/, failed/,
// corrupt/ and hold/ must exist and belong to queue/'s owner, who must be
// able to use them (a spool copied in by hand, or chowned in part, fails
// here). Every failure is a TempFail naming the directory and the repair.
Status CheckSpoolForInjection(const SpoolPaths& paths);

// The installed spool must belong to the relay user, the one relayd's
// systemd unit runs as (User=relay): queue/ owned by anyone else (a spool
// copied from another host, where relay had another uid, or chowned by
// hand) would never be read. A TempFail naming both uids, or OK.
Status CheckSpoolOwner(const SpoolPaths& paths, uid_t relay_uid, const std::string& relay_user);

// Where one new entry goes, following the commit protocol above: written
// here by QueueWriter, or by sendmail's privileged part on the caller's
// behalf (inject/drop.h), which keeps the spool group out of the process
// that parses the message.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // Creates tmp/<id> with the given mode. *exists tells the caller to pick
  // another ID.
  virtual Status Begin(const std::string& id, mode_t mode, bool* exists) = 0;
  virtual Status Append(std::string_view data) = 0;
  virtual uint64_t Size() const = 0;
  // Takes the space for the next `bytes` bytes now (WritableFile::Reserve);
  // Commit gives back what was not used.
  virtual Status Reserve(uint64_t bytes) = 0;
  // Makes the entry durable and visible, as described above.
  virtual Status Commit() = 0;
  // Removes the temporary file; safe to call at any time, and again.
  virtual void Abort() = 0;
  virtual const std::string& temp_path() const = 0;
};

class QueueWriter : public MessageSink {
 public:
  QueueWriter(Env* env, const SpoolPaths& paths) : env_(env), paths_(paths) {}
  ~QueueWriter() override;  // Aborts unless committed.
  QueueWriter(const QueueWriter&) = delete;
  QueueWriter& operator=(const QueueWriter&) = delete;

  Status Begin(const std::string& id, mode_t mode, bool* exists) override;
  Status Append(std::string_view data) override;
  uint64_t Size() const override;
  Status Reserve(uint64_t bytes) override;
  Status Commit() override;
  void Abort() override;

  const std::string& temp_path() const override { return temp_path_; }

 private:
  Env* env_;
  SpoolPaths paths_;
  std::string id_;
  std::string temp_path_;
  std::unique_ptr<WritableFile> file_;
  bool committed_ = false;
};

// Queues a message relay itself creates (a bounce), owned by the spool's
// owner (mode 0600): e's head, then the content, in wire form, that
// write_content hands to its sink piece by piece, then the trailer (the
// size and the 8-bit flag measured here), committed as QueueWriter does.
using ContentSink = std::function<Status(std::string_view)>;
Status CommitRelayMessage(Env* env, const SpoolPaths& paths, const Envelope& e,
                          const std::function<Status(const ContentSink&)>& write_content);

// Moves entry id, which can be neither delivered nor bounced (a notice to
// the postmaster that failed), to failed/ for the admin, its delivery
// state beside it (ID.state), and syncs failed/. *kept names where,
// once the entry is moved (even if the sync then fails).
Status KeepInFailed(Env* env, const SpoolPaths& paths, const std::string& id, std::string* kept);

// What mailq shows of one entry. Reads only the head and the trailer.
struct QueueEntryInfo {
  Envelope envelope;
  uint64_t content_size = 0;
  bool complete = false;  // trailer present and consistent with the size
};

// Opens a queue file for reading without following a symbolic link and
// without blocking on a FIFO: -1 with errno set on failure. The caller
// checks what it opened with CheckQueueFileStat.
int OpenQueueFile(const std::string& path);

// What relay-deliver requires of an opened queue entry before it reads a
// byte: a regular file with one link (two: still being committed, a
// TempFail), writable by its owner only. Anything else is a DataErr: the
// entry goes to corrupt/.
Status CheckQueueFileStat(const struct stat& st);

// Who submitted an entry, as Postfix's pickup decides it: the kernel's
// word (the file's owner), except for files owned by the spool's owner
// (the relay user: the SMTP listener's files, bounces, or every file
// after a chown -R of the spool), for which the recorded uid speaks.
int64_t SubmitterUid(const struct stat& st, uid_t spool_owner, int64_t recorded);

// Reads the head and trailer of the queue file at path (which must be a
// regular file; a FIFO does not block). The uid is the submitter as
// SubmitterUid gives it, the owner of path's directory as spool owner.
Status ReadQueueEntryInfo(const std::string& path, QueueEntryInfo* info);

// Reads the head of an open queue file of file_size bytes (growing reads,
// at most 64 MiB of head) and its trailer. *complete: the trailer is there
// and head, content and trailer add up to the file's size. A malformed
// head is a DataErr status.
Status ReadQueueHead(int fd, uint64_t file_size, Envelope* env, size_t* head_size,
                     Trailer* trailer, bool* complete);

// The free-space floor: TempFail when the file system holding the spool
// has less than min_free bytes available (0: no floor). Mail already
// queued must never be what a full disk costs, so new mail is refused
// first, by sendmail and by the SMTP listener alike.
Status CheckSpoolSpace(const SpoolPaths& paths, uint64_t min_free);

}  // namespace relay

#endif  // RELAY_QUEUE_SPOOL_H_
