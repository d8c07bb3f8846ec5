// AuthFailureTable: wrong passwords per client address, across sessions,
// for the listener beyond loopback (as Postfix's anvil keeps per-client
// counts, and fail2ban's maxretry within findtime). relay-smtpd serves one
// session and ends; relayd, which outlives it, keeps the table and refuses
// an address at accept once it has `limit` failures within the last
// `window` seconds.
//
// Pure: no I/O and no clock. Every call takes `now`, in seconds from any
// clock that does not go back (relayd uses CLOCK_MONOTONIC).
//
// Bounded: at most max_addresses addresses, each with at most `limit`
// failure times (older ones cannot change the verdict). When a new address
// would exceed max_addresses, the one whose last failure is oldest is
// forgotten first; addresses whose failures all left the window are
// dropped as the table is used. So an attacker with many addresses can
// make relayd forget an old one, but cannot make the table grow.
#ifndef RELAY_LISTEN_AUTH_FAILURES_H_
#define RELAY_LISTEN_AUTH_FAILURES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <unordered_map>

namespace relay {

struct AuthFailureLimits {
  int limit = 10;          // failures within window that close the door; 0: off
  int64_t window = 3600;   // seconds
  size_t max_addresses = 4096;
};

class AuthFailureTable {
 public:
  explicit AuthFailureTable(AuthFailureLimits limits = {}) : limits_(limits) {}

  // New limits (a reloaded configuration). Counts already kept stay, cut
  // to the new limit.
  void SetLimits(AuthFailureLimits limits);

  // Records n (>= 1) failures by addr at now. Returns how many failures
  // addr has within the window ending at now (at most limit); 0 when the
  // table is off.
  int Record(const std::string& addr, int n, int64_t now);

  // Failures of addr within the window ending at now.
  int Count(const std::string& addr, int64_t now) const;

  // True when addr has reached the limit within the window: refuse it.
  bool Blocked(const std::string& addr, int64_t now) const;

  // For how many more seconds addr stays refused if it fails no more; 0
  // when it is not refused.
  int64_t BlockedFor(const std::string& addr, int64_t now) const;

  size_t size() const { return index_.size(); }
  const AuthFailureLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string addr;
    std::deque<int64_t> times;  // oldest first; at most limit of them
  };
  using List = std::list<Entry>;  // most recent failure first
  void Trim(Entry* e) const;
  void DropExpired(int64_t now);
  const Entry* Find(const std::string& addr) const;

  AuthFailureLimits limits_;
  List lru_;
  std::unordered_map<std::string, List::iterator> index_;
};

// relay-smtpd tells relayd how many wrong passwords its session saw by its
// exit status: 0 for none, kAuthFailureExitBase + n for n of them (n at
// most kMaxReportedAuthFailures). These are apart from the sysexits codes
// (64-78) it exits with when it cannot serve the client at all.
inline constexpr int kAuthFailureExitBase = 100;
inline constexpr int kMaxReportedAuthFailures = 27;
int SmtpdExitStatus(int auth_failures);
// The failures an exit status reports; 0 for any other status.
int AuthFailuresFromExitStatus(int status);

}  // namespace relay

#endif  // RELAY_LISTEN_AUTH_FAILURES_H_
