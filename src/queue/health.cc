#include "relay/queue/health.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <type_traits>

#include "relay/base/env.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

// Every field of a smarthost, by its key: the encoder and the parser both
// walk this list, so neither can forget one.
template <typename H, typename F>
void VisitHostFields(H& h, F&& f) {
  f("sent_total", h.sent_total);
  f("deferred_total", h.deferred_total);
  f("bounced_total", h.bounced_total);
  f("failures", h.failures);
  f("down_since", h.down_since);
  f("last_success", h.last_success);
  f("last_reached", h.last_reached);
  f("last_error_time", h.last_error_time);
  f("last_error", h.last_error);
  f("auth_failing", h.auth_failing);
  f("pause_until", h.pause_until);
  f("pause_reason", h.pause_reason);
  f("token_expiry", h.token_expiry);
  f("token_refreshed", h.token_refreshed);
  f("refresh_token_issued", h.refresh_token_issued);
  f("token_problem", h.token_problem);
}

template <typename H, typename F>
void VisitTotals(H& h, F&& f) {
  f("last_sent", h.last_sent);
  f("bounces_total", h.bounces_total);
  f("corrupt_total", h.corrupt_total);
  f("failed_total", h.failed_total);
  f("delay_notices_total", h.delay_notices_total);
}

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// A host name is one word in the file: white space would end it early.
std::string OneWord(std::string s) {
  for (char& c : s)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
  return s;
}

std::string Text(const std::string& s) { return OneLine(s); }
std::string Text(bool b) { return b ? "1" : "0"; }
template <typename T>
std::string Text(T n) {
  return std::to_string(n);
}

// Reads value into *out; a value that does not parse leaves *out alone.
void Read(std::string_view value, std::string* out) { *out = std::string(value); }
void Read(std::string_view value, bool* out) {
  if (value == "0" || value == "1") *out = value == "1";
}
template <typename T>
void Read(std::string_view s, T* out) {
  WholeNumber(s, out);  // a bad value keeps the default
}

// Applies one "KEY VALUE" line (without its newline) to *h.
void ParseLine(std::string_view line, Health* h) {
  std::string_view key = NextWord(&line);
  if (key == "host") {
    std::string_view name = NextWord(&line);
    key = NextWord(&line);
    if (name.empty() || key.empty()) return;
    SmarthostHealth* host = FindHost(h, name);
    VisitHostFields(*host, [&](std::string_view k, auto& v) {
      if (k == key) Read(line, &v);
    });
    return;
  }
  VisitTotals(*h, [&](std::string_view k, auto& v) {
    if (k == key) Read(line, &v);
  });
}

}  // namespace

void SmarthostHealth::ClearTrouble() {
  failures = 0;
  down_since = 0;
  pause_until = 0;
  pause_reason.clear();
}

std::string Health::Encode() const {
  std::string out;
  VisitTotals(*this, [&](const char* k, const auto& v) { out += std::string(k) + " " + Text(v) + "\n"; });
  for (const SmarthostHealth& host : hosts) {
    if (host.name.empty()) continue;
    std::string prefix = "host " + OneWord(host.name) + " ";
    VisitHostFields(host, [&](const char* k, const auto& v) { out += prefix + k + " " + Text(v) + "\n"; });
  }
  return out;
}

Health Health::Parse(std::string_view text) {
  Health h;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    ParseLine(text.substr(0, nl), &h);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return h;
}

Health LoadHealth(const SpoolPaths& paths) {
  std::string text;
  if (!Env::Default()->ReadFile(paths.health_file(), &text, nullptr).ok()) return Health();
  return Health::Parse(text);
}

Status SaveHealth(const SpoolPaths& paths, const Health& health) {
  return Env::Default()->WriteFileAtomic(paths.health_file(), health.Encode(), 0600);
}

Status UpdateHealth(const SpoolPaths& paths, const std::function<void(Health*)>& change) {
  std::string lock = paths.health_lock();
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + lock);
  if (::flock(fd, LOCK_EX) != 0) {
    Status s = Status::FromErrno(errno, "lock " + lock);
    ::close(fd);
    return s;
  }
  Health h = LoadHealth(paths);
  change(&h);
  Status s = SaveHealth(paths, h);
  ::close(fd);  // releases the lock
  return s;
}

namespace {

void MergeHost(const SmarthostHealth& run, SmarthostHealth* h) {
  h->sent_total += run.sent_total;
  h->deferred_total += run.deferred_total;
  h->bounced_total += run.bounced_total;
  h->last_success = std::max(h->last_success, run.last_success);
  if (run.last_reached > 0) {
    h->ClearTrouble();
    h->last_reached = std::max(h->last_reached, run.last_reached);
  }
  if (run.failures > 0) {
    if (h->failures == 0 || h->down_since == 0) h->down_since = run.down_since;
    h->failures += run.failures;
  }
  if (run.last_reached > 0 || run.failures > 0) h->auth_failing = run.auth_failing;
  if (run.last_error_time > h->last_error_time) {
    h->last_error_time = run.last_error_time;
    h->last_error = run.last_error;
  }
}

}  // namespace

void MergeRun(const Health& run, Health* stored) {
  stored->bounces_total += run.bounces_total;
  stored->corrupt_total += run.corrupt_total;
  stored->failed_total += run.failed_total;
  stored->delay_notices_total += run.delay_notices_total;
  stored->last_sent = std::max(stored->last_sent, run.last_sent);
  for (const SmarthostHealth& h : run.hosts)
    if (!h.name.empty()) MergeHost(h, FindHost(stored, h.name));
}

void KeepHosts(const std::vector<std::string>& names, Health* health) {
  std::vector<SmarthostHealth> kept;
  for (const std::string& n : names) {
    auto same = [&n](const SmarthostHealth& k) { return k.name == n; };
    if (std::any_of(kept.begin(), kept.end(), same)) continue;  // named twice
    const SmarthostHealth* h = LookupHost(*health, n);
    kept.push_back(h ? *h : SmarthostHealth{});
    kept.back().name = n;
  }
  health->hosts = std::move(kept);
}

SmarthostHealth* FindHost(Health* health, std::string_view name) {
  for (SmarthostHealth& h : health->hosts)
    if (h.name == name) return &h;
  health->hosts.emplace_back();
  health->hosts.back().name = std::string(name);
  return &health->hosts.back();
}

const SmarthostHealth* LookupHost(const Health& health, std::string_view name) {
  for (const SmarthostHealth& h : health.hosts)
    if (h.name == name) return &h;
  return nullptr;
}

}  // namespace relay
