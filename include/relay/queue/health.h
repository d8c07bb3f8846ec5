// state/.health: what relay knows about the smarthost(s) and its own
// totals, kept across runs and restarts. The one owner of that format.
//
// Written by relay-deliver at the end of each run (merged with what was
// there, under state/.health.lock); read by relayd (alerts), by
// `relayctl status` and `--prometheus`, and by the next run (a smarthost
// that was down is not tried first). No secret ever goes in it: token
// facts are times and a one-line problem, never token text.
//
// Format: "KEY VALUE\n" lines. Totals first, then one line per field of
// each smarthost, prefixed with "host NAME ":
//   last_sent MICROS               the last message any smarthost accepted
//   bounces_total N                bounces relay generated
//   corrupt_total N                entries moved to corrupt/
//   failed_total N                 entries moved to failed/
//   delay_notices_total N          delayed-delivery notices sent
//   host NAME sent_total N         messages that smarthost accepted
//   host NAME deferred_total N     delivery attempts that left recipients
//                                  deferred (it answered 4xx, or no
//                                  smarthost could be reached: then the
//                                  first one tried counts it)
//   host NAME bounced_total N      attempts in which it refused recipients
//                                  for good (or they expired)
// A message counts once in each counter per attempt, however many
// recipients it has.
//   host NAME failures N           attempts in a row that failed
//   host NAME down_since MICROS    first of those failures (0: up)
//   host NAME last_success MICROS  the last message it accepted
//   host NAME last_reached MICROS  the last session that came up (TLS, AUTH)
//   host NAME last_error_time MICROS
//   host NAME last_error TEXT      one line
//   host NAME auth_failing 0|1     the last AUTH was refused
//   host NAME pause_until MICROS   deliveries wait until then (0: none)
//   host NAME pause_reason TEXT    one line
//   host NAME token_expiry MICROS            OAuth2 access token expiry
//   host NAME token_refreshed MICROS         last successful refresh
//   host NAME refresh_token_issued MICROS    when the refresh token was stored
//   host NAME token_problem TEXT             "" or one line
// NAME is "host:port" as tried (no white space: any becomes '_'). TEXT
// has CR and LF turned into spaces. Times are microseconds since the
// epoch. A reader takes what it recognises and ignores the rest (unknown
// keys, bad numbers, a truncated file): what it cannot read stays 0 or
// empty, so an old or missing file shows as "never".
#ifndef RELAY_QUEUE_HEALTH_H_
#define RELAY_QUEUE_HEALTH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"
#include "relay/queue/spool.h"

namespace relay {

struct SmarthostHealth {
  std::string name;  // "host:port" as tried
  uint64_t sent_total = 0;  // counters that survive restarts
  uint64_t deferred_total = 0;
  uint64_t bounced_total = 0;
  int failures = 0;  // attempts in a row that could not reach or were refused
  int64_t down_since = 0;  // micros; 0: up
  int64_t last_success = 0;  // micros
  int64_t last_reached = 0;  // micros: the last session that came up
  int64_t last_error_time = 0;
  std::string last_error;  // one line
  bool auth_failing = false;  // the last AUTH was refused
  int64_t pause_until = 0;  // micros; the smarthost pause (quota, rate, unreachable)
  std::string pause_reason;  // one line
  // OAuth2 token facts (no token text):
  int64_t token_expiry = 0;  // access token expiry, micros; 0: none
  int64_t token_refreshed = 0;  // last successful refresh, micros
  int64_t refresh_token_issued = 0;  // when the current refresh token was first stored
  std::string token_problem;  // "" or e.g. "invalid_grant: run relayctl oauth ..."

  // Whether the host is failing now (failures in a row, not yet cleared by
  // a success or a flush).
  bool down() const { return failures > 0; }
  // What a success or `relayctl flush` forgets: the failures in a row,
  // down_since and the pause. Counters, times and last_error stay.
  void ClearTrouble();
};

struct Health {
  std::vector<SmarthostHealth> hosts;  // in the order first seen
  uint64_t bounces_total = 0, corrupt_total = 0, failed_total = 0, delay_notices_total = 0;
  int64_t last_sent = 0;

  std::string Encode() const;
  static Health Parse(std::string_view text);
};

// state/.health of the spool at paths; a missing or unreadable file is an
// empty Health.
Health LoadHealth(const SpoolPaths& paths);
// Replaces state/.health atomically (temp, fsync, rename, fsync of state/),
// mode 0600. Callers that merge with what is there use UpdateHealth.
Status SaveHealth(const SpoolPaths& paths, const Health& health);
// Read, change, write under an exclusive flock on state/.health.lock, so
// that relay-deliver, relayctl and relayd never lose each other's
// changes. `change` must not block. A TempFail when the lock or the write
// fails (the file is then as it was). Call it as the spool's owner only
// (relayctl run as root drops to it first): a file root created, mode
// 0600, would be unreadable to relay-deliver.
Status UpdateHealth(const SpoolPaths& paths, const std::function<void(Health*)>& change);

// Adds what one delivery run learned (`run`) to what was stored:
//  - counters add up; last_sent, last_success, last_reached take the later;
//  - a run host that was reached (last_reached set) clears the stored
//    trouble first (ClearTrouble); then its failures (those since it was
//    last reached in the run) add to the stored ones, and down_since is
//    kept, or set from the run's when the host was up;
//  - last_error (with its time) is taken when later; auth_failing is
//    taken from a host the run tried (reached or failed);
//  - the pause and the token facts are not a run's to merge (they are
//    set where they are decided).
void MergeRun(const Health& run, Health* stored);

// Keeps only the hosts named, in that order, adding those absent (empty):
// what metrics and relayctl status show for the configured smarthosts.
void KeepHosts(const std::vector<std::string>& names, Health* health);

// The host named `name`, added (empty) at the end when absent.
SmarthostHealth* FindHost(Health* health, std::string_view name);
// The host named `name`, or nullptr; never adds.
const SmarthostHealth* LookupHost(const Health& health, std::string_view name);

}  // namespace relay

#endif  // RELAY_QUEUE_HEALTH_H_
