#include "relay/deliver/schedule.h"

#include <algorithm>

#include "relay/queue/delivery_state.h"

namespace relay {

bool Schedule::Add(const std::string& id, int64_t next) {
  if (entries_.count(id)) return false;
  entries_[id].next = next;
  return true;
}

bool Schedule::Busy(const std::string& id) const {
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.busy;
}

bool Schedule::AnyBusy() const {
  for (const auto& [id, e] : entries_)
    if (e.busy) return true;
  return false;
}

void Schedule::FlushAll() {
  for (auto& [id, e] : entries_) {
    e.next = 0;
    e.forced = true;
  }
  site_down_until_ = 0;
  pause_reason_.clear();
}

bool Schedule::Due(const std::string& id, const Entry& e, int64_t now, const Stalled& stalled) const {
  return !e.busy && e.next <= now && !stalled(id);
}

bool Schedule::AnyDue(int64_t now, const Stalled& stalled) const {
  for (const auto& [id, e] : entries_)
    if (Due(id, e, now, stalled)) return true;
  return false;
}

std::vector<Schedule::Work> Schedule::TakeDue(int64_t now, const Stalled& stalled) {
  std::vector<Work> out;
  if (Paused(now)) return out;
  for (auto& [id, e] : entries_) {
    if (!Due(id, e, now, stalled)) continue;
    e.busy = true;
    out.push_back({id, e.forced});
    e.forced = false;
  }
  return out;
}

void Schedule::Done(const std::string& id, int64_t next) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.busy = false;
  it->second.next = next;
}

void Schedule::SetNext(const std::string& id, int64_t next) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.next = next;
}

void Schedule::Requeue(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.busy = false;
  it->second.next = std::max(it->second.next, site_down_until_);
}

int64_t Schedule::SiteFailed(int64_t now, int64_t retry_min) {
  ++site_failures_;
  int64_t delay = RetryDelaySeconds(site_failures_, std::min<int64_t>(retry_min, 60), retry_min, 0.5);
  site_down_until_ = now + delay * 1000000;
  pause_reason_ = "smarthost unreachable";
  return delay;
}

int64_t Schedule::MicrosUntilDue(int64_t now) const {
  int64_t best = -1;
  for (const auto& [id, e] : entries_) {
    if (e.busy) continue;
    int64_t due = std::max(e.next, site_down_until_);
    int64_t wait = std::max<int64_t>(0, due - now);
    if (best < 0 || wait < best) best = wait;
  }
  return best;
}

}  // namespace relay
