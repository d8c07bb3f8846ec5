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
#include "relay/deliver/rate_limit.h"
#include "relay/queue/delivery_state.h"
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
    out += "smarthost:    " + name + ": ";
    if (until > now)
      out += "held for " + std::to_string((until - now + 999999) / 1000000) + " s more (until " +
             std::to_string(until / 1000000) + "): " + Printable(why) + "\n              ";
    out += std::to_string(minute) + " sent in the last minute" +
           (limits.per_minute ? " (limit " + std::to_string(limits.per_minute) + ")" : "") + ", " +
           std::to_string(day) + " in 24 h" + (limits.per_day ? " (limit " + std::to_string(limits.per_day) + ")" : "") +
           "\n";
  }
  return json ? ", \"smarthosts\": [" + out + "]" : out;
}

int StatusCommand(const Config& cfg, bool json, int64_t max_age) {
  SpoolPaths p(cfg.spool_dir);
  // A directory that is not there counts 0 (no spool yet, as for mailq);
  // one that cannot be read stops the command (see ListingFailed).
  Status listed;
  auto count = [&listed](const std::string& dir, std::string* oldest) {
    std::vector<std::string> names;
    size_t n = 0;
    Status s = Env::Default()->ListDir(dir, &names);
    if (!s.ok() && s.message().find(std::strerror(ENOENT)) == std::string::npos && listed.ok()) listed = s;
    for (const std::string& name : names)
      if (IsQueueId(name)) {
        ++n;
        if (oldest && (oldest->empty() || name < *oldest)) *oldest = name;
      }
    return n;
  };
  std::string oldest;
  size_t queued = count(p.queue(), &oldest), held = count(p.hold(), nullptr), failed = count(p.failed(), nullptr);
  if (!listed.ok()) return ListingFailed(listed, cfg.spool_dir);
  int64_t now = Env::Default()->NowMicros();
  int64_t age = oldest.empty() ? 0 : (now - QueueIdMicros(oldest)) / 1000000;
  RunStatus run = LoadRunStatus(p);
  long long sent = run.last_sent, err_time = run.last_error_time;
  const std::string& err = run.last_error;
  bool stuck = !oldest.empty() && age > max_age;
  std::string limits = ProviderLimitsStatus(cfg, json, now);
  if (json) {
    std::printf("{\"queued\": %zu, \"held\": %zu, \"failed\": %zu, \"oldest_id\": %s, \"oldest_age_seconds\": %lld, "
                "\"last_sent\": %lld, \"last_error_time\": %lld, \"last_error\": %s, \"stuck\": %s%s}\n",
                queued, held, failed, Json(oldest).c_str(), static_cast<long long>(age), sent / 1000000,
                err_time / 1000000, Json(err).c_str(), stuck ? "true" : "false", limits.c_str());
  } else {
    auto ago = [&](long long micros) {
      if (micros == 0) return std::string("never");
      return std::to_string((now - micros) / 1000000) + " s ago";
    };
    std::printf("queue:        %zu queued, %zu held, %zu failed\n", queued, held, failed);
    std::printf("oldest:       %s\n", oldest.empty() ? "-" : (oldest + ", " + std::to_string(age) + " s old").c_str());
    std::printf("last sent:    %s\n", ago(sent).c_str());
    std::printf("last error:   %s%s\n", ago(err_time).c_str(), err.empty() ? "" : (": " + Printable(err)).c_str());
    std::fputs(limits.c_str(), stdout);
    if (stuck) std::printf("STUCK: the oldest message has waited longer than %lld s\n", static_cast<long long>(max_age));
  }
  // Monitoring pages someone before mail is lost: non-zero when stuck.
  return stuck ? 1 : 0;
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
  bool json = false;
  int64_t max_age = 3600;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") json = true;
    else if (args[i] == "--max-age" && i + 1 < args.size()) {
      if (!ParseDuration(args[++i], &max_age)) return Fail("bad --max-age (e.g. 30m, 4h)", EX_USAGE);
    } else rest.push_back(args[i]);
  }
  SpoolPaths p(cfg.spool_dir);
  if (cmd == "queue") return Queue(cfg, json);
  if (cmd == "status") return StatusCommand(cfg, json, max_age);
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
