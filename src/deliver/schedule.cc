#include "relay/deliver/schedule.h"

#include <algorithm>

#include "relay/queue/delivery_state.h"

namespace relay {

bool Schedule::Add(const std::string& id, int64_t next) {
  auto [it, added] = entries_.try_emplace(id);
  if (!added) return false;
  it->second.next = next;
  Park(it);
  return true;
}

bool Schedule::Busy(const std::string& id) const {
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.busy;
}

void Schedule::Remove(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.busy) --busy_;
  else Unpark(it);
  entries_.erase(it);
}

void Schedule::FlushAll() {
  idle_.clear();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    it->second.next = 0;
    it->second.forced = true;
    if (!it->second.busy) Park(it);
  }
  site_down_until_ = 0;
  pause_reason_.clear();
}

bool Schedule::AnyDue(int64_t now, const Stalled& stalled) const {
  visited_ = 0;
  // Stalled entries are passed over; there are few (a disk that fails).
  for (const auto& [next, id] : idle_) {
    ++visited_;
    if (next > now) break;
    if (!stalled(*id)) return true;
  }
  return false;
}

std::vector<Schedule::Work> Schedule::TakeDue(int64_t now, const Stalled& stalled) {
  std::vector<Work> out;
  visited_ = 0;
  if (Paused(now)) return out;
  std::vector<Entries::iterator> due;
  for (auto i = idle_.begin(); i != idle_.end();) {
    ++visited_;
    if (i->first > now) break;
    if (stalled(*i->second)) {
      ++i;
      continue;
    }
    due.push_back(entries_.find(*i->second));
    i = idle_.erase(i);
  }
  std::sort(due.begin(), due.end(), [](auto a, auto b) { return a->first < b->first; });
  for (auto it : due) {
    it->second.busy = true;
    ++busy_;
    out.push_back({it->first, it->second.forced});
    it->second.forced = false;
  }
  return out;
}

void Schedule::Release(Entries::iterator it, int64_t next) {
  if (it->second.busy) {
    it->second.busy = false;
    --busy_;
  } else {
    Unpark(it);
  }
  it->second.next = next;
  Park(it);
}

void Schedule::Done(const std::string& id, int64_t next) {
  auto it = entries_.find(id);
  if (it != entries_.end()) Release(it, next);
}

void Schedule::SetNext(const std::string& id, int64_t next) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.busy) {
    it->second.next = next;
    return;
  }
  Unpark(it);
  it->second.next = next;
  Park(it);
}

void Schedule::Requeue(const std::string& id) {
  auto it = entries_.find(id);
  if (it != entries_.end()) Release(it, std::max(it->second.next, site_down_until_));
}

int64_t Schedule::SiteFailed(int64_t now, int64_t retry_min) {
  ++site_failures_;
  int64_t delay = RetryDelaySeconds(site_failures_, std::min<int64_t>(retry_min, 60), retry_min, 0.5);
  site_down_until_ = now + delay * 1000000;
  pause_reason_ = "smarthost unreachable";
  return delay;
}

int64_t Schedule::MicrosUntilDue(int64_t now) const {
  visited_ = 0;
  if (idle_.empty()) return -1;
  visited_ = 1;
  int64_t due = std::max(idle_.begin()->first, site_down_until_);
  return std::max<int64_t>(0, due - now);
}

}  // namespace relay
