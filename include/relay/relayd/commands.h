// The commands relayd runs beside delivery: alert_command and
// heartbeat_command (relayd(8), ALERTS). Each is `/bin/sh -c COMMAND`, a
// child of relayd and so the relay user relayd already is (relayd never
// runs as root: DropToSpoolOwner; a child that finds itself root exits
// before the shell), in a process group of its own, with
//   - an environment of exactly PATH=/usr/bin:/bin (nothing of relayd's:
//     no CREDENTIALS_DIRECTORY, no NOTIFY_SOCKET),
//   - one JSON object and a newline on stdin, then end of file,
//   - stdout and stderr on /dev/null, no other descriptor open,
//   - the working directory /.
// Nothing here blocks: the payload is written into the pipe before the
// child starts reading (it is far smaller than a pipe's buffer), the child
// is reaped by relayd's SIGCHLD handling (Reaped), and a child still
// running after alert_timeout has its whole process group killed
// (SIGKILL) by KillExpired. At most kMaxRunning run at once; further
// payloads wait in a bounded line (the oldest waiting is dropped, and
// logged, when it is full), so a burst of events cannot fork a burst of
// processes.
#ifndef RELAY_RELAYD_COMMANDS_H_
#define RELAY_RELAYD_COMMANDS_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "relay/base/log.h"

namespace relay {

class CommandRunner {
 public:
  static constexpr size_t kMaxRunning = 4;
  static constexpr size_t kMaxWaiting = 64;

  explicit CommandRunner(Logger* log) : log_(log) {}
  // Runs `command` (what: "alert_command", for the log) with payload on
  // stdin, now or once fewer than kMaxRunning run. timeout in seconds.
  void Run(const std::string& what, const std::string& command, const std::string& payload, int64_t timeout,
           int64_t now);
  // Whether pid is one of ours; if so it is forgotten, its end logged
  // when it failed, and a waiting command started.
  bool Reaped(pid_t pid, int status, int64_t now);
  // Kills the process group of each command past its deadline.
  void KillExpired(int64_t now);
  // The earliest deadline of a running command (-1: none).
  int64_t NextDeadline() const;
  size_t running() const { return running_.size(); }
  // SIGKILLs every running command's group (relayd is stopping).
  void KillAll();

 private:
  struct Job {
    std::string what, command, payload;
    int64_t timeout = 0;
  };
  struct Child {
    std::string what;
    int64_t deadline = 0;
    bool killed = false;
  };
  void Start(const Job& job, int64_t now);

  Logger* log_;
  std::map<pid_t, Child> running_;
  std::deque<Job> waiting_;
};

}  // namespace relay

#endif  // RELAY_RELAYD_COMMANDS_H_
