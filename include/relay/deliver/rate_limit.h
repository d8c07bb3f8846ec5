// Provider limits (issue 17, item 6): how many messages each smarthost
// was given lately, whether one more may go now, and the pause a
// provider's "quota reached" reply asked for. RateLimiter is pure (the
// caller passes the time); LoadLimits/SaveLimits are its only I/O, and
// this file is the one owner of the ledger's format.
//
// Accounting, per smarthost ("host:port", HostKey):
// - smarthost_rate_limit N: at most N messages in any 60 seconds (a
//   sliding window over the exact send times). Over it, the next message
//   may go when the oldest of the last N is 60 s old.
// - smarthost_daily_limit N: at most N messages in any 24 hours, counted
//   in one-minute buckets (a send counts until the end of its minute plus
//   24 h: at most a minute longer than exact, never shorter).
// - Every message handed to the smarthost counts, accepted or not:
//   providers count what they were offered.
// - A pause (a quota reply, quota_reply.h) holds the smarthost until its
//   end, whatever the counts.
// Mail over a limit waits; it is not an attempt (no retry count, no
// error, no bounce).
//
// The ledger, SPOOL/state/.limits (written by relay-deliver, read by the
// next run and by relayctl status), one line per fact, "KEY VALUE...":
//   host HOSTKEY              starts a smarthost's section
//   pause UNTIL REASON        micros since the epoch; REASON one line
//   sent MICROS MICROS ...    the send times of the last 60 s
//   day MINUTE:COUNT ...      minute (micros / 60e6) and messages in it
// Unknown or malformed lines are skipped: a damaged ledger loses counts,
// it never stops delivery.
#ifndef RELAY_DELIVER_RATE_LIMIT_H_
#define RELAY_DELIVER_RATE_LIMIT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "relay/base/status.h"
#include "relay/queue/spool.h"

namespace relay {

struct Limits {
  int per_minute = 0;  // 0: none
  int per_day = 0;
};

class RateLimiter {
 public:
  static constexpr int64_t kMinute = 60LL * 1000000;
  static constexpr int64_t kDay = 24LL * 3600 * 1000000;

  struct Host {
    std::deque<int64_t> recent;     // the last send times within a minute (at most per_minute), oldest first
    std::map<int64_t, int> minutes;  // minute index -> messages, the last day
    int64_t pause_until = 0;
    std::string pause_reason;
  };

  // When host may be given the next message under limits (now when it
  // may go at once); *why (may be null) says which limit holds it.
  int64_t NextAllowed(const std::string& host, const Limits& limits, int64_t now, std::string* why) const;
  // Counts a message for host at now when it may go (true); otherwise
  // false with *until and *why as NextAllowed.
  bool TryAcquire(const std::string& host, const Limits& limits, int64_t now, int64_t* until, std::string* why);
  // Holds host until `until` (a later pause wins; an earlier one is kept).
  void Pause(const std::string& host, int64_t until, const std::string& reason);
  // When the oldest message host was given within the last 24 h leaves
  // that window (0: none counted): when a provider's rolling daily count
  // next goes down.
  int64_t DailyWindowEnd(const std::string& host, int64_t now) const;
  // Messages counted for host in the last minute / 24 h.
  int CountMinute(const std::string& host, int64_t now) const;
  int CountDay(const std::string& host, int64_t now) const;
  // Lifts every pause (the counts stay); true when there was one.
  bool ClearPauses();
  // Forgets what no window needs any more, and pauses that are over.
  void Prune(int64_t now);

  const std::map<std::string, Host>& hosts() const { return hosts_; }
  std::string Encode() const;
  static RateLimiter Parse(std::string_view text);

 private:
  std::map<std::string, Host> hosts_;
};

// state/.limits of the spool at paths: an empty ledger when missing or
// unreadable. SaveLimits writes atomically (temp, fsync, rename).
RateLimiter LoadLimits(const SpoolPaths& paths);
Status SaveLimits(const SpoolPaths& paths, const RateLimiter& limiter);

}  // namespace relay

#endif  // RELAY_DELIVER_RATE_LIMIT_H_
