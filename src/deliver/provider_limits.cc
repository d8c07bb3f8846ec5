#include "relay/deliver/provider_limits.h"

#include <algorithm>

#include "relay/base/env.h"
#include "relay/deliver/smarthost_client.h"

namespace relay {

ProviderLimits::ProviderLimits(const Config& cfg, std::vector<QuotaPattern> patterns, RateLimiter ledger)
    : limits_{cfg.smarthost_rate_limit, cfg.smarthost_daily_limit},
      patterns_(std::move(patterns)),
      retry_max_(cfg.retry_max),
      ledger_(std::move(ledger)) {}

bool ProviderLimits::Acquire(const std::string& host, int64_t now, int64_t* until, std::string* why) {
  std::lock_guard<std::mutex> l(mu_);
  bool ok = ledger_.TryAcquire(host, limits_, now, until, why);
  changed_ |= ok;
  return ok;
}

int64_t ProviderLimits::EarliestAllowed(const std::vector<Smarthost>& hosts, int64_t now, std::string* why) const {
  std::lock_guard<std::mutex> l(mu_);
  int64_t best = -1;
  for (const Smarthost& h : hosts) {
    std::string w;
    int64_t t = ledger_.NextAllowed(HostKey(h), limits_, now, &w);
    if (best < 0 || t < best) {
      best = t;
      if (why) *why = w;
    }
  }
  return best < 0 ? now : best;
}

int64_t ProviderLimits::NextAllowed(const std::string& host, int64_t now, std::string* why) const {
  std::lock_guard<std::mutex> l(mu_);
  return ledger_.NextAllowed(host, limits_, now, why);
}

bool ProviderLimits::Allowed(const std::string& host, int64_t now) const {
  std::lock_guard<std::mutex> l(mu_);
  return ledger_.NextAllowed(host, limits_, now, nullptr) <= now;
}

bool ProviderLimits::OnReply(const std::string& host, const std::string& reply, int64_t now, int64_t* until,
                             std::string* reason) {
  QuotaKind kind = ClassifyQuotaReply(patterns_, reply);
  if (kind == QuotaKind::kNone) return false;
  std::lock_guard<std::mutex> l(mu_);
  *until = QuotaPauseUntil(kind, ledger_, host, limits_, now, retry_max_);
  *reason = (kind == QuotaKind::kRate ? "rate: " : "quota: ") + reply;
  ledger_.Pause(host, *until, *reason);
  changed_ = true;
  return true;
}

void ProviderLimits::ClearPauses() {
  std::lock_guard<std::mutex> l(mu_);
  changed_ |= ledger_.ClearPauses();
}

RateLimiter ProviderLimits::Snapshot(int64_t now, bool* changed) {
  std::lock_guard<std::mutex> l(mu_);
  ledger_.Prune(now);
  *changed = changed_;
  changed_ = false;
  return ledger_;
}

Status LoadProviderPolicy(const Config& cfg, const std::string& domain, const std::string& fqdn,
                          SenderPolicy* sender, std::vector<QuotaPattern>* quota) {
  std::string map_text;
  if (!cfg.sender_map.empty()) {
    Status s = Env::Default()->ReadFile(cfg.sender_map, &map_text, nullptr);
    if (!s.ok()) return Status::Config("sender_map " + cfg.sender_map + ": " + s.message());
  }
  Status s = MakeSenderPolicy(cfg, domain, fqdn, map_text, sender);
  if (!s.ok()) return Status::Config("sender_map " + cfg.sender_map + ": " + s.message());
  *quota = BuiltinQuotaPatterns();
  if (cfg.smarthost_quota_replies.empty()) return Status::Ok();
  std::string text;
  s = Env::Default()->ReadFile(cfg.smarthost_quota_replies, &text, nullptr);
  if (s.ok()) s = ParseQuotaPatterns(text, quota);
  if (!s.ok()) return Status::Config("smarthost_quota_replies " + cfg.smarthost_quota_replies + ": " + s.message());
  return Status::Ok();
}

}  // namespace relay
