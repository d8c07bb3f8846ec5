#include "relay/admin/relayctl_admin.h"

#include <fcntl.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "relay/deliver/delivery.h"
#include "relay/deliver/oauth_policy.h"
#include "relay/deliver/rate_limit.h"
#include "relay/deliver/token_store.h"
#include "relay/queue/delivery_state.h"
#include "relay/queue/health.h"
#include "relay/queue/metrics.h"
#include "relay/queue/queue_summary.h"
#include "relay/base/env.h"
#include "relay/base/host.h"
#include "relay/base/log.h"
#include "relay/queue/mailq.h"
#include "relay/queue/operations.h"
#include "relay/queue/queue_id.h"
#include "relay/queue/run_status.h"
#include "relay/queue/spool.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

std::string Json(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "relayctl: %s\n", msg.c_str());
  return code;
}

// A queue directory that could not be listed. A user who may not read
// the spool is told so with EX_NOPERM, as mailq does: a count of 0 would
// tell a monitoring check run unprivileged that nothing is stuck.
int ListingFailed(const Status& s, const std::string& dir) {
  if (s.message().find(std::strerror(EACCES)) != std::string::npos)
    return Fail("cannot read the queue in " + dir + ": only root and the relay user may see it", EX_NOPERM);
  return Fail(s.message(), EX_TEMPFAIL);
}

const char* EntryState(const std::string& mark) {
  if (mark == kMarkHeld) return "held";
  if (mark == kMarkFailed) return "failed";
  if (mark == kMarkDamaged) return "unreadable";
  return "queued";
}

int Queue(const Config& cfg, bool json) {
  std::vector<QueueListItem> items;
  Status s = ReadQueueListing(SpoolPaths(cfg.spool_dir), &items);
  if (!s.ok()) return ListingFailed(s, cfg.spool_dir);
  if (!json) {
    time_t now = time(nullptr);
    struct tm tm;
    localtime_r(&now, &tm);
    std::fputs(FormatQueueListing(items, tm.tm_gmtoff).c_str(), stdout);
    return 0;
  }
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    const QueueListItem& it = items[i];
    out += std::string(i ? "," : "") + "\n  {\"id\": " + Json(it.id) + ", \"size\": " + std::to_string(it.size) +
           ", \"arrival\": " + std::to_string(it.arrival_micros / 1000000) + ", \"sender\": " + Json(it.sender) +
           ", \"state\": " + Json(EntryState(it.mark)) +
           ", \"recipients\": [";
    for (size_t j = 0; j < it.pending.size(); ++j)
      out += std::string(j ? ", " : "") + "{\"address\": " + Json(it.pending[j].address) +
             ", \"last_error\": " + Json(it.pending[j].last_error) + "}";
    out += "]}";
  }
  out += items.empty() ? "]\n" : "\n]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

int Show(const Config& cfg, const std::string& id) {
  SpoolPaths p(cfg.spool_dir);
  std::string path;
  EntryPlace place;
  if (!LocateEntry(p, id, &path, &place)) return Fail("no queue entry " + id, EX_NOINPUT);
  std::string where = EntryPlaceName(place);
  QueueEntryInfo info;
  Status s = ReadQueueEntryInfo(path, &info);
  if (!s.ok()) return Fail(s.message(), EX_DATAERR);
  const Envelope& e = info.envelope;
  DeliveryState st;
  bool have = LoadEntryState(p, id, place, e.recipients.size(), &st);
  time_t arrival = static_cast<time_t>(e.arrival_micros / 1000000);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&arrival));
  std::printf("id:        %s (%s)\narrival:   %s\nsender:    <%s>\nsize:      %llu\nuid:       %lld\n",
              id.c_str(), where.c_str(), when, Printable(e.sender).c_str(),
              static_cast<unsigned long long>(info.content_size), static_cast<long long>(e.uid));
  if (have) std::printf("attempts:  %d\n", st.attempts);
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    std::string state = "pending";
    if (have && st.rcpts[i].kind == RcptStatus::Kind::kDone) state = "delivered";
    if (have && st.rcpts[i].kind == RcptStatus::Kind::kBounced) state = "bounced";
    std::printf("recipient: <%s> %s%s\n", Printable(e.recipients[i].address).c_str(), state.c_str(),
                have && !st.rcpts[i].reason.empty() ? (" (" + Printable(st.rcpts[i].reason) + ")").c_str() : "");
  }
  // The header block, as it will be sent.
  std::string file;
  std::string_view block;
  if (Env::Default()->ReadFile(path, &file, nullptr).ok() && ContentHeaderBlock(file, &block).ok()) {
    std::printf("\n");
    for (std::string_view l : Split(block, '\n')) std::printf("%s\n", Printable(Trim(l)).c_str());
  }
  return 0;
}

int Move(const Config& cfg, const std::string& id, bool hold) {
  SpoolPaths p(cfg.spool_dir);
  if (!(hold ? HoldEntry(p, id) : ReleaseEntry(p, id)))
    return Fail(hold ? "no queued entry " + id : "no held entry " + id, EX_NOINPUT);
  std::printf("%s: %s\n", id.c_str(), hold ? "held (not delivered until released)" : "released");
  return 0;
}

int Delete(const Config& cfg, const std::string& id) {
  SpoolPaths p(cfg.spool_dir);
  std::string path;
  EntryPlace place;
  if (!LocateEntry(p, id, &path, &place)) return Fail("no queue entry " + id, EX_NOINPUT);
  Status s = DeleteEntry(p, id, path, place);
  if (!s.ok()) return Fail(s.message(), EX_TEMPFAIL);
  std::printf("%s: deleted from %s\n", id.c_str(), EntryPlaceName(place));
  return 0;
}

int Bounce(const Config& cfg, const std::string& id) {
  SpoolPaths p(cfg.spool_dir);
  LoadedMessage m;
  Status s = LoadMessage(p, id, &m);
  if (!s.ok()) return Fail(id + ": " + s.message(), EX_NOINPUT);
  Logger log(cfg.log);
  Aliases aliases;
  LoadAliasesFile(Env::Default(), cfg.aliases, &aliases, nullptr);
  LocalNames names = GetLocalNames(cfg);
  std::atomic<bool> dirty{false};
  HostHealth hosts;
  DeliveryContext ctx{&cfg, &p, &aliases, names.host.fqdn, &log, &dirty, &hosts};
  ctx.domain = names.domain;
  Deliverer d(ctx, nullptr);
  std::vector<size_t> idx;
  std::vector<RcptOutcome> out;
  for (size_t i = 0; i < m.state.rcpts.size(); ++i) {
    if (m.state.rcpts[i].kind != RcptStatus::Kind::kPending) continue;
    idx.push_back(i);
    out.push_back({RcptState::kBounced, "5.0.0", "returned to the sender by the administrator (relayctl bounce)"});
  }
  AttemptResult r = d.Record(&m, idx, out, false);
  Env::Default()->SyncDir(p.queue());
  WakeRelayd(p, Trigger::kWake);
  std::printf("%s: %zu recipient%s bounced%s\n", id.c_str(), idx.size(), idx.size() == 1 ? "" : "s",
              r.removed ? "; entry removed" : "");
  return 0;
}

// Provider limits (issue 17): each smarthost in the ledger (state/.limits)
// or in relay.conf, its pause or limit and when it ends, and its counts.
// Text lines, or a JSON array for status --json.
std::string ProviderLimitsStatus(const Config& cfg, bool json, int64_t now) {
  RateLimiter ledger = LoadLimits(SpoolPaths(cfg.spool_dir));
  ledger.Prune(now);
  Limits limits{cfg.smarthost_rate_limit, cfg.smarthost_daily_limit};
  std::vector<std::string> names;
  for (const Smarthost& h : cfg.smarthosts) names.push_back(HostKey(h));
  for (const auto& [name, h] : ledger.hosts())
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::string out;
  for (const std::string& name : names) {
    std::string why;
    int64_t until = ledger.NextAllowed(name, limits, now, &why);
    int minute = ledger.CountMinute(name, now), day = ledger.CountDay(name, now);
    if (json) {
      out += std::string(out.empty() ? "" : ", ") + "{\"name\": " + Json(name) +
             ", \"held_until\": " + std::to_string(until > now ? until / 1000000 : 0) +
             ", \"held_reason\": " + Json(until > now ? why : "") + ", \"sent_last_minute\": " +
             std::to_string(minute) + ", \"sent_last_day\": " + std::to_string(day) + "}";
      continue;
    }
    out += "limits:       " + name + ": ";
    if (until > now)
      out += "held for " + std::to_string((until - now + 999999) / 1000000) + " s more (until " +
             std::to_string(until / 1000000) + "): " + Printable(why) + "\n              ";
    out += std::to_string(minute) + " sent in the last minute" +
           (limits.per_minute ? " (limit " + std::to_string(limits.per_minute) + ")" : "") + ", " +
           std::to_string(day) + " in 24 h" + (limits.per_day ? " (limit " + std::to_string(limits.per_day) + ")" : "") +
           "\n";
  }
  return json ? ", \"limits\": [" + out + "]" : out;
}

// state/.health for the configured smarthosts, in their order.
Health ConfiguredHealth(const Config& cfg) {
  Health h = LoadHealth(SpoolPaths(cfg.spool_dir));
  std::vector<std::string> names;
  for (const Smarthost& s : cfg.smarthosts) names.push_back(HostKey(s));
  KeepHosts(names, &h);
  return h;
}

std::string Ago(int64_t micros, int64_t now) {
  if (micros == 0) return "never";
  return std::to_string((now - micros) / 1000000) + " s ago";
}

std::string Oldest(const DirSummary& d, int64_t now) {
  return d.oldest.empty() ? "-" : d.oldest + ", " + std::to_string(d.OldestAgeSeconds(now)) + " s old";
}

std::string HostLine(const SmarthostHealth& h, int64_t now) {
  std::string line = "smarthost " + Printable(h.name) + ": ";
  if (h.down())
    line += "DOWN since " + Ago(h.down_since, now) + " (" + std::to_string(h.failures) + " failure" +
            (h.failures == 1 ? "" : "s") + " in a row" + (h.auth_failing ? ", AUTH refused" : "") +
            "): " + Printable(h.last_error);
  else
    line += "up, last success " + Ago(h.last_success, now);
  if (h.pause_until > now)
    line += "; paused for " + std::to_string((h.pause_until - now) / 1000000) + " s more (" +
            Printable(h.pause_reason) + ")";
  return line + "; " + std::to_string(h.sent_total) + " sent, " + std::to_string(h.deferred_total) +
         " deferred, " + std::to_string(h.bounced_total) + " bounced";
}

bool HasToken(const SmarthostHealth& h) {
  return h.token_expiry || h.token_refreshed || h.refresh_token_issued || !h.token_problem.empty();
}

// The OAuth token's state (issue 17): times and warnings, never a token.
std::string TokenLine(const SmarthostHealth& h, const std::string& provider, int64_t now) {
  std::string line = "oauth " + Printable(h.name) + ": access token ";
  if (h.token_expiry == 0) line += "none";
  else if (h.token_expiry > now) line += "expires in " + std::to_string((h.token_expiry - now) / 1000000) + " s";
  else line += "expired " + Ago(h.token_expiry, now);
  line += ", last refresh " + Ago(h.token_refreshed, now) + ", refresh token " +
          (h.refresh_token_issued ? std::to_string((now - h.refresh_token_issued) / 86400000000) + " days old"
                                  : std::string("age unknown"));
  if (!h.token_problem.empty()) line += "\nPROBLEM: " + Printable(h.token_problem);
  std::string w = TokenWarning(provider, h.refresh_token_issued / 1000000, h.token_refreshed / 1000000, now / 1000000);
  if (!w.empty()) line += "\nWARNING: " + w;
  return line;
}

std::string TokenJson(const SmarthostHealth& h, const std::string& provider, int64_t now) {
  auto n = [](int64_t v) { return std::to_string(v); };
  return ", \"token\": {\"expiry\": " + n(h.token_expiry / 1000000) + ", \"last_refresh\": " +
         n(h.token_refreshed / 1000000) + ", \"refresh_token_issued\": " + n(h.refresh_token_issued / 1000000) +
         ", \"refresh_token_age_seconds\": " +
         n(h.refresh_token_issued ? (now - h.refresh_token_issued) / 1000000 : 0) + ", \"problem\": " +
         Json(h.token_problem) + ", \"warning\": " +
         Json(TokenWarning(provider, h.refresh_token_issued / 1000000, h.token_refreshed / 1000000, now / 1000000)) +
         "}";
}

std::string HostJson(const SmarthostHealth& h, const std::string& provider, int64_t now) {
  auto n = [](int64_t v) { return std::to_string(v); };
  return "{\"name\": " + Json(h.name) + ", \"up\": " + (h.down() ? "false" : "true") +
         ", \"failures\": " + n(h.failures) + ", \"down_since\": " + n(h.down_since / 1000000) +
         ", \"last_success\": " + n(h.last_success / 1000000) + ", \"last_error_time\": " +
         n(h.last_error_time / 1000000) + ", \"last_error\": " + Json(h.last_error) +
         ", \"auth_failing\": " + (h.auth_failing ? "true" : "false") + ", \"pause_until\": " +
         n(h.pause_until / 1000000) + ", \"pause_reason\": " + Json(h.pause_reason) +
         ", \"sent_total\": " + std::to_string(h.sent_total) + ", \"deferred_total\": " +
         std::to_string(h.deferred_total) + ", \"bounced_total\": " + std::to_string(h.bounced_total) +
         (HasToken(h) ? TokenJson(h, provider, now) : "") + "}";
}

std::string StatusJson(const QueueSummary& q, const RunStatus& run, const Health& health,
                       const std::vector<std::string>& stuck, int64_t now, const std::string& limits,
                       const std::string& provider) {
  auto n = [](int64_t v) { return std::to_string(v); };
  std::string out = "{\"queued\": " + n(q.queued.count) + ", \"held\": " + n(q.held.count) + ", \"failed\": " +
                    n(q.failed.count) + ", \"corrupt\": " + n(q.corrupt.count) + ", \"oldest_id\": " +
                    Json(q.queued.oldest) + ", \"oldest_age_seconds\": " + n(q.queued.OldestAgeSeconds(now)) +
                    ", \"held_oldest_id\": " + Json(q.held.oldest) + ", \"held_oldest_age_seconds\": " +
                    n(q.held.OldestAgeSeconds(now)) + ", \"failed_oldest_id\": " + Json(q.failed.oldest) +
                    ", \"failed_oldest_age_seconds\": " + n(q.failed.OldestAgeSeconds(now)) +
                    ", \"last_sent\": " + n(run.last_sent / 1000000) + ", \"last_error_time\": " +
                    n(run.last_error_time / 1000000) + ", \"last_error\": " + Json(run.last_error) +
                    ", \"stuck\": " + (stuck.empty() ? "false" : "true") + ", \"stuck_parts\": [";
  for (size_t i = 0; i < stuck.size(); ++i) out += (i ? ", " : "") + Json(stuck[i]);
  out += "], \"smarthosts\": [";
  for (size_t i = 0; i < health.hosts.size(); ++i) out += (i ? ", " : "") + HostJson(health.hosts[i], provider, now);
  return out + "]" + limits + "}\n";
}

void PrintStatus(const QueueSummary& q, const RunStatus& run, const Health& health,
                 const std::vector<std::string>& stuck, int64_t now, int64_t max_age, const std::string& limits,
                 const std::string& provider) {
  std::printf("queue:        %zu queued, %zu held, %zu failed, %zu corrupt\n", q.queued.count, q.held.count,
              q.failed.count, q.corrupt.count);
  std::printf("oldest:       %s\n", Oldest(q.queued, now).c_str());
  if (q.held.count) std::printf("oldest held:  %s\n", Oldest(q.held, now).c_str());
  if (q.failed.count) std::printf("oldest failed: %s\n", Oldest(q.failed, now).c_str());
  std::printf("last sent:    %s\n", Ago(run.last_sent, now).c_str());
  std::printf("last error:   %s%s\n", Ago(run.last_error_time, now).c_str(),
              run.last_error.empty() ? "" : (": " + Printable(run.last_error)).c_str());
  for (const SmarthostHealth& h : health.hosts) {
    std::printf("%s\n", HostLine(h, now).c_str());
    if (HasToken(h)) std::printf("%s\n", TokenLine(h, provider, now).c_str());
  }
  std::fputs(limits.c_str(), stdout);
  for (const std::string& part : stuck) {
    const char* what = part == "queued" ? "queued message" : part == "held" ? "held entry" : "failed entry";
    std::printf("STUCK: the oldest %s has waited longer than %lld s\n", what, static_cast<long long>(max_age));
  }
}

// The provider whose cliffs apply: relay.conf's, else the store's.
std::string OAuthProvider(const Config& cfg) {
  if (!cfg.provider.empty() || !cfg.oauth()) return cfg.provider;
  TokenStore store;
  uid_t owner = 0;
  std::string provider;
  if (SpoolOwner(cfg, &owner).ok() && LoadTokenStore(TokenStorePath(cfg), owner, &store, nullptr).ok() &&
      !cfg.smarthosts.empty())
    if (const OAuthToken* t = store.Find(HostKey(cfg.smarthosts[0]))) provider = t->provider;
  store.Wipe();
  return provider;
}

int StatusCommand(const Config& cfg, bool json, bool prometheus, int64_t max_age) {
  QueueSummary q;
  Status listed = ReadQueueSummary(SpoolPaths(cfg.spool_dir), &q);
  if (!listed.ok()) return ListingFailed(listed, cfg.spool_dir);
  int64_t now = Env::Default()->NowMicros();
  Health health = ConfiguredHealth(cfg);
  if (prometheus) {
    std::fputs(EncodeMetrics(health, q, now).c_str(), stdout);
    return 0;
  }
  RunStatus run = LoadRunStatus(SpoolPaths(cfg.spool_dir));
  // Held and failed entries count as stuck too: nothing delivers them.
  std::vector<std::string> stuck = q.Stuck(now, max_age);
  std::string limits = ProviderLimitsStatus(cfg, json, now);
  std::string provider = OAuthProvider(cfg);
  if (json) std::fputs(StatusJson(q, run, health, stuck, now, limits, provider).c_str(), stdout);
  else PrintStatus(q, run, health, stuck, now, max_age, limits, provider);
  // Monitoring pages someone before mail is lost: non-zero when stuck.
  return stuck.empty() ? 0 : 1;
}

}  // namespace

bool IsAdminCommand(const std::string& cmd) {
  for (const char* c : {"queue", "show", "flush", "retry", "hold", "release", "delete", "bounce", "status"})
    if (cmd == c) return true;
  return false;
}

LocalNames GetLocalNames(const Config& cfg) {
  LocalNames n;
  n.host = GetHostNames(Env::Default());
  n.domain = MailDomain(Env::Default(), cfg.domain, n.host);
  return n;
}

int AdminCommand(const std::string& cmd, const std::vector<std::string>& args, const Config& cfg) {
  bool json = false, prometheus = false;
  int64_t max_age = 3600;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") json = true;
    else if (args[i] == "--prometheus" && cmd == "status") prometheus = true;
    else if (args[i] == "--max-age" && i + 1 < args.size()) {
      if (!ParseDuration(args[++i], &max_age)) return Fail("bad --max-age (e.g. 30m, 4h)", EX_USAGE);
    } else rest.push_back(args[i]);
  }
  SpoolPaths p(cfg.spool_dir);
  if (cmd == "queue") return Queue(cfg, json);
  if (cmd == "status") return StatusCommand(cfg, json, prometheus, max_age);
  if (cmd == "flush") {
    Status s = WakeRelayd(p, Trigger::kFlush);
    if (!s.ok())
      return Fail("flush not requested: " + s.message() + " (run it as root or the relay user)",
                  s.kind() == Status::Kind::kNoPerm ? EX_NOPERM : EX_TEMPFAIL);
    std::printf("flush requested: relayd delivers every queued message now\n");
    return 0;
  }
  if (rest.size() != 1 || !IsQueueId(rest[0]))
    return Fail("relayctl " + cmd + " needs one queue ID (as mailq shows it)", EX_USAGE);
  const std::string& id = rest[0];
  if (cmd == "show") return Show(cfg, id);
  if (cmd == "hold") return Move(cfg, id, true);
  if (cmd == "release") return Move(cfg, id, false);
  if (cmd == "delete") return Delete(cfg, id);
  if (cmd == "bounce") return Bounce(cfg, id);
  if (cmd == "retry") {
    QueueEntryInfo info;
    if (!ReadQueueEntryInfo(p.queue_file(id), &info).ok()) return Fail("no queued entry " + id, EX_NOINPUT);
    MakeEntryDue(p, id, info.envelope.recipients.size());
    WakeRelayd(p, Trigger::kWake);
    std::printf("%s: due now\n", id.c_str());
    return 0;
  }
  return Fail("unknown command " + cmd, EX_USAGE);
}

}  // namespace relay
