#include "relay/relayd/alerts.h"

#include <algorithm>
#include <charconv>

#include "relay/base/strings.h"
#include "relay/relayd/json_object.h"

namespace relay {
namespace {

constexpr int64_t kMicros = 1000000;

AlertCondition Cond(std::string key, std::string kind) {
  AlertCondition c;
  c.key = std::move(key);
  c.kind = std::move(kind);
  return c;
}

bool IsCounterKind(std::string_view kind) { return kind == "bounce" || kind == "set_aside"; }

void AddQueueAge(const AlertSnapshot& s, const AlertConfig& cfg, int64_t now, std::vector<AlertCondition>* out) {
  AlertCondition c = Cond("queue_age", "queue_age");
  if (cfg.queue_age <= 0) return;
  int64_t since = s.oldest_entry + cfg.queue_age * kMicros;
  c.holds = s.oldest_entry > 0 && now >= since;
  c.since = c.holds ? since : 0;
  c.starts = s.oldest_entry > 0 && !c.holds ? since : 0;
  if (c.holds) {
    c.text = {{"oldest_id", s.oldest_id}};
    c.numbers = {{"oldest_age_seconds", (now - s.oldest_entry) / kMicros}};
  }
  out->push_back(std::move(c));
}

void AddHosts(const AlertSnapshot& s, const AlertConfig& cfg, int64_t now, std::vector<AlertCondition>* out) {
  for (const AlertSnapshot::Host& h : s.hosts) {
    if (cfg.smarthost_down > 0) {
      AlertCondition c = Cond("smarthost_down:" + h.name, "smarthost_down");
      int64_t since = h.down_since + cfg.smarthost_down * kMicros;
      c.holds = h.down_since > 0 && now >= since;
      c.since = c.holds ? h.down_since : 0;
      c.starts = h.down_since > 0 && !c.holds ? since : 0;
      c.text = {{"smarthost", h.name}, {"error", h.last_error}};
      out->push_back(std::move(c));
    }
    AlertCondition a = Cond("auth:" + h.name, "auth");
    bool expiring = cfg.token_expiry > 0 && h.token_expiry > 0 && h.token_expiry - now < cfg.token_expiry * kMicros;
    a.holds = h.auth_failing || !h.token_problem.empty() || expiring;
    a.since = a.holds ? now : 0;
    std::string why = h.auth_failing ? "the smarthost refused AUTH" : !h.token_problem.empty() ? "token problem" : "";
    if (why.empty() && expiring) why = "the token expires soon";
    a.text = {{"smarthost", h.name}, {"reason", why}, {"token_problem", h.token_problem}};
    if (h.token_expiry > 0) a.numbers = {{"token_expiry", h.token_expiry / kMicros}};
    out->push_back(std::move(a));
  }
}

// A counter kind: holds when the counters grew now, or within the last
// alert_interval (entry.last_seen).
AlertCondition CounterCondition(const std::string& kind, uint64_t grew, const AlertState& st, const AlertConfig& cfg,
                                int64_t now) {
  AlertCondition c = Cond(kind, kind);
  c.increase = grew;
  auto it = st.entries.find(kind);
  int64_t last_seen = it == st.entries.end() ? 0 : it->second.last_seen;
  c.holds = grew > 0 || (last_seen > 0 && now - last_seen < cfg.interval * kMicros);
  c.since = grew > 0 ? now : last_seen;
  return c;
}

uint64_t Growth(uint64_t now_total, uint64_t before, bool known) {
  return known && now_total > before ? now_total - before : 0;
}

}  // namespace

std::vector<AlertCondition> AlertConditions(const AlertSnapshot& snap, const AlertConfig& cfg,
                                            const AlertState& state, int64_t now) {
  std::vector<AlertCondition> out;
  AddQueueAge(snap, cfg, now, &out);
  AddHosts(snap, cfg, now, &out);
  bool known = state.counters_known;
  AlertCondition b = CounterCondition("bounce", Growth(snap.bounces_total, state.bounces_total, known), state, cfg, now);
  b.numbers = {{"bounces_total", static_cast<int64_t>(snap.bounces_total)}};
  out.push_back(std::move(b));
  uint64_t aside = Growth(snap.corrupt_total, state.corrupt_total, known) +
                   Growth(snap.failed_total, state.failed_total, known);
  AlertCondition s = CounterCondition("set_aside", aside, state, cfg, now);
  s.numbers = {{"corrupt_total", static_cast<int64_t>(snap.corrupt_total)},
               {"failed_total", static_cast<int64_t>(snap.failed_total)}};
  out.push_back(std::move(s));
  if (cfg.spool_min_free > 0 && snap.spool_free_known) {
    AlertCondition c = Cond("spool_space", "spool_space");
    c.holds = snap.spool_free / 2 < cfg.spool_min_free;
    c.since = c.holds ? now : 0;
    c.numbers = {{"spool_free_bytes", static_cast<int64_t>(snap.spool_free)},
                 {"spool_min_free_bytes", static_cast<int64_t>(cfg.spool_min_free)}};
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

AlertEvent EventFor(const AlertCondition& c, bool firing, int64_t since, uint64_t count) {
  AlertEvent e;
  e.kind = c.kind;
  e.firing = firing;
  e.since = since;
  e.count = count;
  e.text = c.text;
  e.numbers = c.numbers;
  return e;
}

// One condition's step. Returns whether an event is due, in *e.
bool StepOne(const AlertCondition& c, int64_t interval, int64_t now, AlertState::Entry* st, AlertEvent* e,
             int64_t* next) {
  if (c.increase > 0) {
    st->last_seen = now;
    st->unreported += c.increase;
  }
  if (!c.holds) {
    if (!st->firing) return false;
    *e = EventFor(c, false, st->since, 0);
    st->firing = false;
    st->unreported = 0;
    return true;
  }
  if (!st->firing && st->since == 0) st->since = c.since;
  int64_t due = st->last_alert == 0 ? now : st->last_alert + interval;
  bool news = !st->firing || !IsCounterKind(c.kind) || st->unreported > 0;
  if (now < due || !news) {
    if (now < due) *next = *next < 0 ? due : std::min(*next, due);
    return false;
  }
  *e = EventFor(c, true, st->firing ? st->since : c.since, st->unreported);
  st->since = e->since;
  st->firing = true;
  st->last_alert = now;
  st->unreported = 0;
  return true;
}

}  // namespace

std::vector<AlertEvent> StepAlerts(const std::vector<AlertCondition>& conds, const AlertConfig& cfg,
                                   const AlertSnapshot& snap, int64_t now, AlertState* state,
                                   int64_t* next_check) {
  std::vector<AlertEvent> firing, resolved;
  int64_t interval = std::max<int64_t>(cfg.interval, 1) * kMicros;
  *next_check = -1;
  for (const AlertCondition& c : conds) {
    AlertState::Entry& st = state->entries[c.key];
    AlertEvent e;
    if (StepOne(c, interval, now, &st, &e, next_check)) (e.firing ? firing : resolved).push_back(std::move(e));
    // A condition that will start to hold by itself (mail growing old, a
    // smarthost staying down) is looked at again then.
    if (!c.holds && c.starts > now) *next_check = *next_check < 0 ? c.starts : std::min(*next_check, c.starts);
    // A counter condition ends alert_interval after its last growth.
    if (c.holds && IsCounterKind(c.kind)) {
      int64_t end = st.last_seen + interval;
      *next_check = *next_check < 0 ? end : std::min(*next_check, end);
    }
    if (!st.firing && st.last_alert == 0 && st.last_seen == 0) state->entries.erase(c.key);
    else if (!st.firing) st.since = 0;
  }
  // A condition no longer reported (a smarthost removed from relay.conf,
  // an alert turned off) resolves too, so no "firing" is left unanswered.
  for (auto it = state->entries.begin(); it != state->entries.end();) {
    bool listed = std::any_of(conds.begin(), conds.end(), [&](const AlertCondition& c) { return c.key == it->first; });
    if (!listed && it->second.firing) {
      AlertEvent e;
      e.kind = it->first.substr(0, it->first.find(':'));
      e.firing = false;
      e.since = it->second.since;
      resolved.push_back(std::move(e));
    }
    it = listed ? std::next(it) : state->entries.erase(it);
  }
  state->counters_known = true;
  state->bounces_total = snap.bounces_total;
  state->corrupt_total = snap.corrupt_total;
  state->failed_total = snap.failed_total;
  for (AlertEvent& e : resolved) firing.push_back(std::move(e));
  return firing;
}

std::string AlertState::Encode() const {
  std::string out = "relay-alerts 1\n";
  if (counters_known)
    out += "counters " + std::to_string(bounces_total) + " " + std::to_string(corrupt_total) + " " +
           std::to_string(failed_total) + "\n";
  out += "heartbeat " + std::to_string(last_heartbeat) + "\n";
  for (const auto& [key, e] : entries) {
    // Keys are the engine's ("kind" or "kind:host:port", names without
    // white space) or Parse's (one line): never a newline. One that had
    // one could not be read back, so it is not written.
    if (key.empty() || key.find('\n') != std::string::npos) continue;
    const std::string& k = key;
    out += "alert " + std::string(e.firing ? "1" : "0") + " " + std::to_string(e.since) + " " +
           std::to_string(e.last_alert) + " " + std::to_string(e.last_seen) + " " + std::to_string(e.unreported) +
           " " + k + "\n";
  }
  return out;
}

namespace {

bool ParseAlertLine(std::string_view line, AlertState* st) {
  AlertState::Entry e;
  int firing = 0;
  if (!WholeNumber(NextWord(&line), &firing) || firing < 0 || firing > 1) return false;
  e.firing = firing == 1;
  if (!WholeNumber(NextWord(&line), &e.since) || !WholeNumber(NextWord(&line), &e.last_alert) || !WholeNumber(NextWord(&line), &e.last_seen) ||
      !WholeNumber(NextWord(&line), &e.unreported) || line.empty())
    return false;
  st->entries[std::string(line)] = e;
  return true;
}

}  // namespace

AlertState AlertState::Parse(std::string_view text) {
  AlertState st;
  if (text.substr(0, text.find('\n')) != "relay-alerts 1") return st;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view key = NextWord(&line);
    if (key == "alert") {
      ParseAlertLine(line, &st);
    } else if (key == "heartbeat") {
      WholeNumber(line, &st.last_heartbeat);
    } else if (key == "counters") {
      uint64_t b = 0, c = 0, f = 0;
      if (WholeNumber(NextWord(&line), &b) && WholeNumber(NextWord(&line), &c) && WholeNumber(line, &f)) {
        st.counters_known = true;
        st.bounces_total = b, st.corrupt_total = c, st.failed_total = f;
      }
    }
  }
  return st;
}

std::string AlertJson(const AlertEvent& e, const std::string& hostname, int64_t now) {
  JsonObject o;
  o.Add("kind", e.kind).Add("state", e.firing ? "firing" : "resolved");
  o.Add("since", e.since / kMicros).Add("time", now / kMicros).Add("host", hostname);
  if (IsCounterKind(e.kind)) o.Add("count", static_cast<int64_t>(e.count));
  for (const auto& [k, v] : e.text) o.Add(k, v);
  for (const auto& [k, v] : e.numbers) o.Add(k, v);
  return o.Text();
}

}  // namespace relay
