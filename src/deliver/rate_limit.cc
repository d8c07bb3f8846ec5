#include "relay/deliver/rate_limit.h"

#include <charconv>

#include "relay/base/env.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

// The end of the daily window of a message counted in minute m.
int64_t DayEnd(int64_t m) { return (m + 1) * RateLimiter::kMinute + RateLimiter::kDay; }

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

}  // namespace

int RateLimiter::CountMinute(const std::string& host, int64_t now) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return 0;
  int n = 0;
  for (int64_t t : it->second.recent) n += t > now - kMinute && t <= now;
  return n;
}

int RateLimiter::CountDay(const std::string& host, int64_t now) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return 0;
  int n = 0;
  for (const auto& [m, c] : it->second.minutes) n += DayEnd(m) > now ? c : 0;
  return n;
}

int64_t RateLimiter::NextAllowed(const std::string& host, const Limits& limits, int64_t now, std::string* why) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return now;
  const Host& h = it->second;
  int64_t t = now;
  auto later = [&](int64_t when, const std::string& reason) {
    if (when <= t) return;
    t = when;
    if (why) *why = reason;
  };
  later(h.pause_until, "paused: " + h.pause_reason);
  int in_minute = CountMinute(host, now);
  if (limits.per_minute > 0 && in_minute >= limits.per_minute) {
    // The oldest of the last per_minute sends must leave the window.
    std::vector<int64_t> win;
    for (int64_t s : h.recent)
      if (s > now - kMinute && s <= now) win.push_back(s);
    later(win[win.size() - static_cast<size_t>(limits.per_minute)] + kMinute,
          "smarthost_rate_limit: " + std::to_string(limits.per_minute) + " messages a minute");
  }
  int left = CountDay(host, now);
  if (limits.per_day > 0 && left >= limits.per_day) {
    for (const auto& [m, c] : h.minutes) {
      if (DayEnd(m) <= now) continue;
      left -= c;
      if (left < limits.per_day) {
        later(DayEnd(m), "smarthost_daily_limit: " + std::to_string(limits.per_day) + " messages a day");
        break;
      }
    }
  }
  return t;
}

bool RateLimiter::TryAcquire(const std::string& host, const Limits& limits, int64_t now, int64_t* until,
                             std::string* why) {
  int64_t next = NextAllowed(host, limits, now, why);
  if (next > now) {
    *until = next;
    return false;
  }
  Host& h = hosts_[host];
  // Only the last per_minute send times can hold the next message.
  if (limits.per_minute > 0) {
    h.recent.push_back(now);
    while (!h.recent.empty() && (h.recent.front() <= now - kMinute ||
                                 h.recent.size() > static_cast<size_t>(limits.per_minute)))
      h.recent.pop_front();
  }
  h.minutes[now / kMinute]++;
  *until = now;
  return true;
}

void RateLimiter::Pause(const std::string& host, int64_t until, const std::string& reason) {
  Host& h = hosts_[host];
  if (until <= h.pause_until) return;
  h.pause_until = until;
  h.pause_reason = OneLine(reason);
}

int64_t RateLimiter::DailyWindowEnd(const std::string& host, int64_t now) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return 0;
  for (const auto& [m, c] : it->second.minutes)
    if (c > 0 && DayEnd(m) > now) return DayEnd(m);
  return 0;
}

bool RateLimiter::ClearPauses() {
  bool any = false;
  for (auto& [name, h] : hosts_) {
    any |= h.pause_until > 0;
    h.pause_until = 0;
    h.pause_reason.clear();
  }
  return any;
}

void RateLimiter::Prune(int64_t now) {
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    Host& h = it->second;
    while (!h.recent.empty() && h.recent.front() <= now - kMinute) h.recent.pop_front();
    while (!h.minutes.empty() && DayEnd(h.minutes.begin()->first) <= now) h.minutes.erase(h.minutes.begin());
    if (h.pause_until <= now) {
      h.pause_until = 0;
      h.pause_reason.clear();
    }
    if (h.recent.empty() && h.minutes.empty() && h.pause_until == 0) it = hosts_.erase(it);
    else ++it;
  }
}

std::string RateLimiter::Encode() const {
  std::string out;
  for (const auto& [name, h] : hosts_) {
    out += "host " + OneLine(name) + "\n";
    if (h.pause_until > 0) out += "pause " + std::to_string(h.pause_until) + " " + OneLine(h.pause_reason) + "\n";
    if (!h.recent.empty()) {
      out += "sent";
      for (int64_t t : h.recent) out += " " + std::to_string(t);
      out += "\n";
    }
    if (!h.minutes.empty()) {
      out += "day";
      for (const auto& [m, c] : h.minutes) out += " " + std::to_string(m) + ":" + std::to_string(c);
      out += "\n";
    }
  }
  return out;
}

RateLimiter RateLimiter::Parse(std::string_view text) {
  RateLimiter r;
  Host* h = nullptr;
  for (std::string_view line : Split(text, '\n')) {
    size_t sp = line.find(' ');
    std::string_view key = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    if (key == "host" && !rest.empty()) {
      // As Encode writes it, so that a name read back is written the same.
      h = &r.hosts_[OneLine(std::string(rest))];
      continue;
    }
    if (!h) continue;
    if (key == "pause") {
      size_t sp2 = rest.find(' ');
      int64_t until = 0;
      if (!WholeNumber(rest.substr(0, sp2), &until)) continue;
      h->pause_until = until;
      h->pause_reason = sp2 == std::string_view::npos ? "" : OneLine(std::string(rest.substr(sp2 + 1)));
    } else if (key == "sent") {
      for (std::string_view w : Split(rest, ' ')) {
        int64_t t = 0;
        if (WholeNumber(w, &t) && (h->recent.empty() || t >= h->recent.back())) h->recent.push_back(t);
      }
    } else if (key == "day") {
      for (std::string_view w : Split(rest, ' ')) {
        size_t colon = w.find(':');
        int64_t m = 0, c = 0;
        if (colon == std::string_view::npos || !WholeNumber(w.substr(0, colon), &m) ||
            !WholeNumber(w.substr(colon + 1), &c) || c <= 0 || c > 1000000000 || h->minutes[m] + c > 1000000000)
          continue;
        h->minutes[m] += static_cast<int>(c);
      }
    }
  }
  return r;
}

RateLimiter LoadLimits(const SpoolPaths& paths) {
  std::string text;
  if (!Env::Default()->ReadFile(paths.limits_file(), &text, nullptr).ok()) return RateLimiter();
  return RateLimiter::Parse(text);
}

Status SaveLimits(const SpoolPaths& paths, const RateLimiter& limiter) {
  return Env::Default()->WriteFileAtomic(paths.limits_file(), limiter.Encode(), 0600);
}

}  // namespace relay
