#include "relay/relayd/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "relay/base/env.h"
#include "relay/queue/health.h"
#include "relay/queue/queue_id.h"
#include "relay/relayd/json_object.h"

namespace relay {
namespace {

constexpr int64_t kMicros = 1000000;
// A heartbeat probe that failed, or found mail queued, is tried again
// this much later (or heartbeat_interval, when that is shorter).
constexpr int64_t kProbeRecheckMicros = 60 * kMicros;

int64_t Min(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

// The oldest queue id among the entries of dir ("" when none).
void OldestIn(const std::string& dir, std::string* oldest) {
  std::vector<std::string> names;
  if (!Env::Default()->ListDir(dir, &names).ok()) return;
  for (const std::string& n : names)
    if (IsQueueId(n) && (oldest->empty() || QueueIdMicros(n) < QueueIdMicros(*oldest))) *oldest = n;
}

}  // namespace

AlertSnapshot ReadAlertSnapshot(const SpoolPaths& paths, int64_t /*now*/) {
  AlertSnapshot s;
  Health h = LoadHealth(paths);
  for (const SmarthostHealth& sh : h.hosts)
    s.hosts.push_back({sh.name, sh.down() ? sh.down_since : 0, sh.last_error, sh.auth_failing, sh.token_problem,
                       sh.token_expiry});
  s.bounces_total = h.bounces_total;
  s.corrupt_total = h.corrupt_total;
  s.failed_total = h.failed_total;
  // hold/ and failed/ count: mail put aside is mail that did not go.
  for (const std::string& dir : {paths.queue(), paths.hold(), paths.failed()}) OldestIn(dir, &s.oldest_id);
  if (!s.oldest_id.empty()) s.oldest_entry = QueueIdMicros(s.oldest_id);
  struct statvfs vfs;
  if (statvfs(paths.root.c_str(), &vfs) == 0) {
    s.spool_free_known = true;
    s.spool_free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  return s;
}

bool QueueEmpty(const SpoolPaths& paths) {
  std::string oldest;
  OldestIn(paths.queue(), &oldest);
  return oldest.empty();
}

AlertConfig AlertConfigFrom(const Config& cfg) {
  AlertConfig a;
  a.queue_age = cfg.alert_queue_age;
  a.smarthost_down = cfg.alert_smarthost_down;
  a.interval = cfg.alert_interval;
  a.token_expiry = cfg.alert_token_expiry;
  a.spool_min_free = cfg.spool_min_free;
  return a;
}

Monitor::Monitor(const Config& cfg, Logger* log, std::string hostname, std::string probe_path,
                 std::vector<std::string> probe_argv)
    : cfg_(cfg), log_(log), hostname_(std::move(hostname)), probe_path_(std::move(probe_path)),
      probe_argv_(std::move(probe_argv)), paths_(cfg.spool_dir), commands_(log) {
  std::string text;
  if (Env::Default()->ReadFile(paths_.alerts_file(), &text, nullptr).ok()) {
    state_ = AlertState::Parse(text);
    saved_ = text;
  }
  next_check_ = cfg_.alert_command.empty() ? -1 : 0;  // a first look at start
}

void Monitor::Save() {
  // Most runs change nothing: no write (and fsync) for those.
  std::string text = state_.Encode();
  if (text == saved_) return;
  Status s = Env::Default()->WriteFileAtomic(paths_.alerts_file(), text, 0600);
  if (!s.ok()) log_->Error("cannot save " + paths_.alerts_file() + ": " + s.message());
  else saved_ = std::move(text);
}

void Monitor::Evaluate(int64_t now) {
  if (cfg_.alert_command.empty()) {
    next_check_ = -1;
    return;
  }
  AlertConfig ac = AlertConfigFrom(cfg_);
  AlertSnapshot snap = ReadAlertSnapshot(paths_, now);
  std::vector<AlertCondition> conds = AlertConditions(snap, ac, state_, now);
  std::vector<AlertEvent> events = StepAlerts(conds, ac, snap, now, &state_, &next_check_);
  // The state first: a crash after a command started repeats nothing.
  Save();
  for (const AlertEvent& e : events) {
    log_->Info("alert: " + e.kind + " " + (e.firing ? "firing" : "resolved") + ": running alert_command");
    commands_.Run("alert_command", cfg_.alert_command, AlertJson(e, hostname_, now), cfg_.alert_timeout, now);
  }
}

void Monitor::Heartbeat(const std::string& reason, uint64_t sent, int64_t now) {
  state_.last_heartbeat = now;
  Save();
  JsonObject o;
  o.Add("kind", "heartbeat").Add("state", "ok").Add("reason", reason).Add("sent", static_cast<int64_t>(sent));
  o.Add("time", now / kMicros).Add("host", hostname_);
  log_->Info("heartbeat (" + reason + "): running heartbeat_command");
  commands_.Run("heartbeat_command", cfg_.heartbeat_command, o.Text(), cfg_.alert_timeout, now);
}

void Monitor::AfterRun(const RunReport& r, int64_t now) {
  Evaluate(now);
  if (r.sent > 0 && !cfg_.heartbeat_command.empty()) Heartbeat("delivered", r.sent, now);
}

void Monitor::StartProbe(int64_t now) {
  next_probe_ = now + std::min(kProbeRecheckMicros, cfg_.heartbeat_interval * kMicros);
  if (!QueueEmpty(paths_)) return;  // mail waiting: only a delivery says the path works
  pid_t pid = fork();
  if (pid < 0) {
    log_->Error(std::string("fork: ") + std::strerror(errno));
    return;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
    }
    std::vector<char*> argv;
    for (const std::string& a : probe_argv_) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(probe_path_.c_str(), argv.data());
    _exit(EX_UNAVAILABLE);
  }
  probe_ = pid;
}

void Monitor::Tick(int64_t now, bool run_going) {
  commands_.KillExpired(now);
  if (next_check_ >= 0 && now >= next_check_) Evaluate(now);
  bool heartbeat_due = !cfg_.heartbeat_command.empty() && probe_ < 0 && !run_going &&
                       now >= state_.last_heartbeat + cfg_.heartbeat_interval * kMicros && now >= next_probe_;
  if (heartbeat_due) StartProbe(now);
}

int64_t Monitor::NextWake(bool run_going) const {
  int64_t wake = Min(next_check_, commands_.NextDeadline());
  if (!cfg_.heartbeat_command.empty() && probe_ < 0 && !run_going)
    wake = Min(wake, std::max(state_.last_heartbeat + cfg_.heartbeat_interval * kMicros, next_probe_));
  return wake;
}

bool Monitor::Reaped(pid_t pid, int status, int64_t now) {
  if (pid == probe_) {
    probe_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) Heartbeat("probe", 0, now);
    else log_->Warn("heartbeat probe: the smarthost did not answer; no heartbeat");
    return true;
  }
  return commands_.Reaped(pid, status, now);
}

}  // namespace relay
