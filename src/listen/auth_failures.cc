#include "relay/listen/auth_failures.h"

#include <algorithm>

namespace relay {

void AuthFailureTable::SetLimits(AuthFailureLimits limits) {
  limits_ = limits;
  for (Entry& e : lru_) Trim(&e);
  while (index_.size() > limits_.max_addresses) {
    index_.erase(lru_.back().addr);
    lru_.pop_back();
  }
}

void AuthFailureTable::Trim(Entry* e) const {
  // Only the newest `limit` times can decide whether the limit is reached.
  size_t keep = static_cast<size_t>(std::max(limits_.limit, 1));
  while (e->times.size() > keep) e->times.pop_front();
}

// Invariant: lru_ is ordered by each entry's newest failure, newest first
// (Record moves an entry to the front, and `now` does not go back), so the
// entries whose newest failure left the window are all at the back.
void AuthFailureTable::DropExpired(int64_t now) {
  while (!lru_.empty() && now - lru_.back().times.back() >= limits_.window) {
    index_.erase(lru_.back().addr);
    lru_.pop_back();
  }
}

int AuthFailureTable::Record(const std::string& addr, int n, int64_t now) {
  if (limits_.limit <= 0 || n <= 0 || limits_.max_addresses == 0) return 0;
  DropExpired(now);
  auto it = index_.find(addr);
  if (it == index_.end()) {
    if (index_.size() >= limits_.max_addresses) {
      index_.erase(lru_.back().addr);
      lru_.pop_back();
    }
    lru_.push_front(Entry{addr, {}});
    it = index_.emplace(addr, lru_.begin()).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Entry& e = *it->second;
  for (int i = 0; i < n && i < limits_.limit; ++i) e.times.push_back(now);
  Trim(&e);
  return Count(addr, now);
}

const AuthFailureTable::Entry* AuthFailureTable::Find(const std::string& addr) const {
  auto it = index_.find(addr);
  return it == index_.end() ? nullptr : &*it->second;
}

int AuthFailureTable::Count(const std::string& addr, int64_t now) const {
  const Entry* e = Find(addr);
  if (!e) return 0;
  int n = 0;
  for (int64_t t : e->times) n += now - t < limits_.window;
  return n;
}

bool AuthFailureTable::Blocked(const std::string& addr, int64_t now) const {
  return limits_.limit > 0 && Count(addr, now) >= limits_.limit;
}

int64_t AuthFailureTable::BlockedFor(const std::string& addr, int64_t now) const {
  if (!Blocked(addr, now)) return 0;
  // Blocked: the entry holds exactly `limit` times, all in the window; it
  // opens when the oldest of them leaves it.
  return Find(addr)->times.front() + limits_.window - now;
}

int SmtpdExitStatus(int auth_failures) {
  if (auth_failures <= 0) return 0;
  return kAuthFailureExitBase + std::min(auth_failures, kMaxReportedAuthFailures);
}

int AuthFailuresFromExitStatus(int status) {
  if (status <= kAuthFailureExitBase || status > kAuthFailureExitBase + kMaxReportedAuthFailures) return 0;
  return status - kAuthFailureExitBase;
}

}  // namespace relay
