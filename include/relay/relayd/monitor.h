// relayd's watch outside the mail path (relayd(8), ALERTS): after each
// delivery run, and whenever the alert engine asks to look again, it reads
// what the runs left (state/.health, the spool's directories and free
// space), steps the alert engine (alerts.h) and runs alert_command for each
// event; it runs heartbeat_command after a run that delivered something,
// and, when the queue is empty, after a successful `relay-deliver --probe`
// at least every heartbeat_interval. The commands run through
// CommandRunner (commands.h): never waited for, killed at alert_timeout.
#ifndef RELAY_RELAYD_MONITOR_H_
#define RELAY_RELAYD_MONITOR_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/log.h"
#include "relay/queue/run_status.h"
#include "relay/queue/spool.h"
#include "relay/relayd/alerts.h"
#include "relay/relayd/commands.h"

namespace relay {

// The alert engine's inputs as the spool shows them at now: state/.health,
// the oldest entry of queue/, hold/ and failed/ (by its queue id's time),
// and the free space statvfs reports for the relay user.
AlertSnapshot ReadAlertSnapshot(const SpoolPaths& paths, int64_t now);
// Whether queue/ holds no entry (a heartbeat probe only runs then).
bool QueueEmpty(const SpoolPaths& paths);
AlertConfig AlertConfigFrom(const Config& cfg);

class Monitor {
 public:
  // probe_argv: relay-deliver's command line for a probe; probe_path: the
  // program.
  Monitor(const Config& cfg, Logger* log, std::string hostname, std::string probe_path,
          std::vector<std::string> probe_argv);
  // SIGHUP: the new keys, and a fresh look with them.
  void SetConfig(const Config& cfg) {
    cfg_ = cfg;
    next_check_ = cfg_.alert_command.empty() ? -1 : 0;
  }
  // A delivery run ended with report r.
  void AfterRun(const RunReport& r, int64_t now);
  // Time-driven work: alerts the engine asked to look at again, a
  // heartbeat probe when one is due (only when no delivery run is going:
  // run_going), commands past their timeout.
  void Tick(int64_t now, bool run_going);
  // The next time Tick has something to do (-1: none). While a delivery
  // run goes no probe starts, so its time does not count (relayd wakes
  // when the run ends anyway).
  int64_t NextWake(bool run_going) const;
  // A child ended: true when it was the monitor's (a command or a probe).
  bool Reaped(pid_t pid, int status, int64_t now);
  void Stop() { commands_.KillAll(); }

 private:
  void Evaluate(int64_t now);
  void Heartbeat(const std::string& reason, uint64_t sent, int64_t now);
  void StartProbe(int64_t now);
  void Save();

  Config cfg_;
  Logger* log_;
  std::string hostname_;
  std::string probe_path_;
  std::vector<std::string> probe_argv_;
  SpoolPaths paths_;
  AlertState state_;
  std::string saved_;  // state/.alerts as last read or written
  CommandRunner commands_;
  int64_t next_check_ = -1;    // the alert engine's next look
  int64_t next_probe_ = 0;     // the earliest next heartbeat probe
  pid_t probe_ = -1;
};

}  // namespace relay

#endif  // RELAY_RELAYD_MONITOR_H_
