// What one delivery run leaves for the next, and for the admin. Each
// format has its encoder and its parser here, and nowhere else.
//
// state/.status (RunStatus): written by relay-deliver at the end of each
// run, merged with what earlier runs wrote; read by `relayctl status`.
// Three lines, "KEY VALUE\n", in this order:
//   last_sent MICROS          the last message the smarthost accepted
//                             (microseconds since the epoch; 0: never)
//   last_error_time MICROS    when the last delivery error happened (0: never)
//   last_error TEXT           that error, on one line (CR and LF become
//                             spaces); empty when there was none
// A reader takes what it recognises and leaves the rest at 0 or empty: an
// old, truncated or missing file shows as "never".
//
// The smarthost pause (SmarthostPause): after a run found the smarthost
// unreachable, deliveries wait until `until`, and `failures` counts such
// runs in a row (the backoff grows with it). relayd keeps it between runs,
// because it times the next run by it (new mail waits for the pause; a
// flush lifts it), and hands it to the next run on its command line:
//   relay-deliver ... --site-failures FAILURES UNTIL
// (nothing when failures is 0). A run started by hand gets no pause.
//
// The run report (RunReport): relay-deliver --report ends with one line on
// stdout for relayd:
//   next MICROS hold MICROS failures N sent N
// next: when the earliest entry is due (-1: none); hold and failures: the
// smarthost pause as the run leaves it; sent: recipients the smarthost
// accepted in this run (relayd runs heartbeat_command when it is not 0).
// The parser takes a line without "sent" (0) and ignores pairs after it
// that it does not know, so a newer relay-deliver can add figures.
#ifndef RELAY_QUEUE_RUN_STATUS_H_
#define RELAY_QUEUE_RUN_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"
#include "relay/queue/spool.h"

namespace relay {

struct RunStatus {
  int64_t last_sent = 0;
  int64_t last_error_time = 0;
  std::string last_error;

  std::string Encode() const;
  static RunStatus Parse(std::string_view text);
  // Takes what `newer` (this run's figures) adds: a later delivery, a later
  // error (with its text).
  void Merge(const RunStatus& newer);
};

// state/.status of the spool at paths; a missing or unreadable file is an
// empty status.
RunStatus LoadRunStatus(const SpoolPaths& paths);
Status SaveRunStatus(const SpoolPaths& paths, const RunStatus& st);

struct SmarthostPause {
  int failures = 0;
  int64_t until = 0;  // micros since the epoch

  static constexpr const char* kFlag = "--site-failures";
  // The arguments that carry it: kFlag, failures, until; none when
  // failures is 0.
  std::vector<std::string> ToArgs() const;
  // Parses the two values after kFlag. False (and *pause untouched) when
  // either is not a decimal number or failures is negative.
  static bool FromArgs(std::string_view failures, std::string_view until, SmarthostPause* pause);
};

struct RunReport {
  int64_t next = -1;
  SmarthostPause pause;
  uint64_t sent = 0;

  std::string Encode() const;
  // Parses the report line (a trailing newline, or more output after it,
  // is ignored). False when it is not one.
  static bool Parse(std::string_view text, RunReport* report);
};

}  // namespace relay

#endif  // RELAY_QUEUE_RUN_STATUS_H_
