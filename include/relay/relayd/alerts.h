// Alerts outside the mail path (issue 18): the pure decision of what
// relayd tells alert_command, and when. No I/O: relayd gathers an
// AlertSnapshot (state/.health, the spool's directories, its free space)
// and the time, and runs the commands for the events; the state that makes
// the decision repeatable across restarts is state/.alerts (its encoder
// and parser are here, the atomic write is relayd's).
//
// Conditions, each with a key (its kind, plus ":SMARTHOST" where there is
// one per smarthost):
//   queue_age        the oldest entry in queue/, hold/ or failed/ has been
//                    there alert_queue_age or longer
//   smarthost_down   a smarthost has been unreachable or refusing for
//                    alert_smarthost_down or longer
//   auth             its AUTH was refused, its token is dead (a token
//                    problem), or the token expires within alert_token_expiry
//   bounce           bounces_total grew: a bounce was generated
//   set_aside        corrupt_total or failed_total grew: an entry was moved
//                    to corrupt/ or failed/
//   spool_space      the spool's free space is below spool_min_free x 2
// A counter condition (bounce, set_aside) holds while its counter grew
// within the last alert_interval.
//
// Events: a condition that starts holding fires ("firing"); while it holds
// it fires again at most once per alert_interval (a reminder, with the
// count of new bounces and the like since the last one); when it stops
// holding, exactly one "resolved" follows, at once. A condition that starts
// again within alert_interval of its last firing waits until the interval
// is over (and fires then if it still holds), so a flapping smarthost
// gives at most one firing per interval, each followed by its resolved.
#ifndef RELAY_RELAYD_ALERTS_H_
#define RELAY_RELAYD_ALERTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relay {

// What relayd knows after a run. Times in micros since the epoch.
struct AlertSnapshot {
  int64_t oldest_entry = 0;  // arrival of the oldest entry (queue/, hold/, failed/); 0: none
  std::string oldest_id;
  struct Host {
    std::string name;          // "host:port"
    int64_t down_since = 0;    // 0: up
    std::string last_error;
    bool auth_failing = false;
    std::string token_problem;  // "": none
    int64_t token_expiry = 0;   // 0: no token
  };
  std::vector<Host> hosts;
  uint64_t bounces_total = 0, corrupt_total = 0, failed_total = 0;
  bool spool_free_known = false;
  uint64_t spool_free = 0;  // bytes available to the relay user
};

// The relay.conf keys, in seconds (0: that alert is off).
struct AlertConfig {
  int64_t queue_age = 0;
  int64_t smarthost_down = 0;
  int64_t interval = 3600;
  int64_t token_expiry = 0;
  uint64_t spool_min_free = 0;  // bytes; 0: no space alert
};

// One condition as the snapshot shows it: holding or not, since when, and
// what to say about it.
struct AlertCondition {
  std::string key;   // "queue_age", "smarthost_down:mx.example:587"
  std::string kind;  // "queue_age", "smarthost_down", ...
  bool holds = false;
  int64_t since = 0;  // micros: when it started to hold
  std::vector<std::pair<std::string, std::string>> text;  // detail fields
  std::vector<std::pair<std::string, int64_t>> numbers;
  uint64_t increase = 0;  // counter kinds: how much the counter grew now
  int64_t starts = 0;     // not holding yet: when it will, if nothing changes (0: no such time)
};

struct AlertEvent {
  std::string kind;
  bool firing = true;  // false: "resolved"
  int64_t since = 0;   // micros
  uint64_t count = 0;  // counter kinds: new occurrences this event reports
  std::vector<std::pair<std::string, std::string>> text;
  std::vector<std::pair<std::string, int64_t>> numbers;
};

// state/.alerts: what was said, so that a restart neither repeats nor
// forgets an alert.
struct AlertState {
  struct Entry {
    bool firing = false;
    int64_t since = 0;       // when the condition started (micros)
    int64_t last_alert = 0;  // the last "firing" event (micros)
    int64_t last_seen = 0;   // counter kinds: the last growth (micros)
    uint64_t unreported = 0; // counter kinds: growth not yet in an event
  };
  std::map<std::string, Entry> entries;
  bool counters_known = false;  // false: the first look sets the baseline
  uint64_t bounces_total = 0, corrupt_total = 0, failed_total = 0;
  int64_t last_heartbeat = 0;  // micros

  // Format: "relay-alerts 1\n", then lines
  //   counters BOUNCES CORRUPT FAILED
  //   heartbeat MICROS
  //   alert FIRING SINCE LAST_ALERT LAST_SEEN UNREPORTED KEY
  // (FIRING 0 or 1; KEY is the rest of the line). Unknown or malformed
  // lines are skipped, so a damaged file costs at most a repeated alert.
  std::string Encode() const;
  static AlertState Parse(std::string_view text);
};

// The conditions the snapshot shows at now. Counter kinds compare with the
// counters in state (and never fire on the first look, or after a counter
// went backwards: that is a baseline, not a bounce).
std::vector<AlertCondition> AlertConditions(const AlertSnapshot& snap, const AlertConfig& cfg,
                                            const AlertState& state, int64_t now);

// Advances state by conds at now and returns the events to send, firing
// ones first in key order, then resolved ones. *next_check: the earliest
// time at which calling again could give an event with no new snapshot
// (-1: none); relayd wakes then.
std::vector<AlertEvent> StepAlerts(const std::vector<AlertCondition>& conds, const AlertConfig& cfg,
                                   const AlertSnapshot& snap, int64_t now, AlertState* state,
                                   int64_t* next_check);

// The JSON object alert_command reads on stdin: kind, state ("firing" or
// "resolved"), since and time (unix seconds), host (this machine's name),
// count (counter kinds), then the event's detail fields.
std::string AlertJson(const AlertEvent& e, const std::string& hostname, int64_t now);

}  // namespace relay

#endif  // RELAY_RELAYD_ALERTS_H_
