// ProviderLimits: a delivery run's provider limits, shared by its worker
// threads: the RateLimiter ledger (rate_limit.h) behind a mutex, the
// configured limits, and what a quota reply (quota_reply.h) does to the
// smarthost that gave it. No I/O: QueueRunner loads and saves the ledger.
#ifndef RELAY_DELIVER_PROVIDER_LIMITS_H_
#define RELAY_DELIVER_PROVIDER_LIMITS_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/deliver/quota_reply.h"
#include "relay/deliver/rate_limit.h"
#include "relay/deliver/sender_rewrite.h"

namespace relay {

class ProviderLimits {
 public:
  ProviderLimits(const Config& cfg, std::vector<QuotaPattern> patterns, RateLimiter ledger);

  // Whether host may be given a message now; counts it if so. Otherwise
  // false, with when it may and which limit (or pause) holds it.
  bool Acquire(const std::string& host, int64_t now, int64_t* until, std::string* why);
  // The earliest time any of hosts may be given a message (now: one may
  // at once), and why the earliest one waits.
  int64_t EarliestAllowed(const std::vector<Smarthost>& hosts, int64_t now, std::string* why) const;
  // Whether host may be given a message now.
  bool Allowed(const std::string& host, int64_t now) const;
  // When host may be given the next message, and why it waits.
  int64_t NextAllowed(const std::string& host, int64_t now, std::string* why) const;
  // A reply from host: when it is a quota or slow-down reply, host is
  // paused (QuotaPauseUntil) and true comes back with the pause's end and
  // its reason ("quota: REPLY" or "rate: REPLY").
  bool OnReply(const std::string& host, const std::string& reply, int64_t now, int64_t* until,
               std::string* reason);
  // Lifts every quota pause (a flush); the configured limits stay.
  void ClearPauses();
  // The ledger as it stands, pruned at now; and whether it changed since
  // the last call.
  RateLimiter Snapshot(int64_t now, bool* changed);

 private:
  mutable std::mutex mu_;
  Limits limits_;
  std::vector<QuotaPattern> patterns_;
  int64_t retry_max_;
  RateLimiter ledger_;
  bool changed_ = false;
};

// The sender rewrite and the quota replies of cfg, with their files
// (sender_map, smarthost_quota_replies) read here: a file that cannot be
// read or parsed is a Config status naming the key, the file and the line.
// Used by relay-deliver at start and by relayctl check.
Status LoadProviderPolicy(const Config& cfg, const std::string& domain, const std::string& fqdn,
                          SenderPolicy* sender, std::vector<QuotaPattern>* quota);

}  // namespace relay

#endif  // RELAY_DELIVER_PROVIDER_LIMITS_H_
