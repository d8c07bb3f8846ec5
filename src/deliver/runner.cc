#include "relay/deliver/runner.h"

#include <sys/eventfd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "relay/deliver/connection.h"
#include "relay/deliver/delivery.h"
#include "relay/queue/delivery_state.h"
#include "relay/queue/health.h"
#include "relay/deliver/oauth_refresh.h"
#include "relay/queue/metrics.h"
#include "relay/queue/queue_summary.h"
#include "relay/queue/queue_id.h"
#include "relay/queue/run_status.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

int64_t Now() { return Env::Default()->NowMicros(); }

// A writer locks its temporary file within microseconds of creating it and
// holds the lock until the file is committed or removed; a file no one
// locks was left by a writer that was killed (SIGKILL cannot be caught)
// and nothing will ever commit it. It is removed once it has not changed
// for this long, which only keeps the sweep clear of that first instant.
constexpr int64_t kDeadWriterSeconds = 10;

}  // namespace

struct QueueRunner::Worker {
  std::thread thread;
  std::unique_ptr<Deliverer> deliverer;
  std::atomic<bool> done{false};
  // Set (under mu_) when the worker found no work and is closing: it takes
  // nothing more, so Dispatch must not count on it for queued work.
  bool exiting = false;
};

QueueRunner::QueueRunner(const Config& cfg, Logger* log, std::string hostname, std::string domain)
    : cfg_(cfg), log_(log), hostname_(std::move(hostname)), domain_(std::move(domain)), paths_(cfg.spool_dir) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  LoadAliasesFile(Env::Default(), cfg.aliases, &aliases_, nullptr);
  LoadHostHealth();
}

void QueueRunner::LoadHostHealth() {
  // What earlier runs found: a smarthost that kept failing is tried after
  // the others until its penalty is over (a success or a flush clears it).
  Health h = LoadHealth(paths_);
  for (const Smarthost& s : cfg_.smarthosts) {
    const SmarthostHealth* sh = LookupHost(h, HostKey(s));
    if (!sh || !sh->down()) continue;
    int64_t last = sh->last_error_time > 0 ? sh->last_error_time : sh->down_since;
    hosts_.MarkDownUntil(HostKey(s), HostPenaltyUntil(sh->failures, last, cfg_.retry_max));
  }
}

QueueRunner::~QueueRunner() {
  Shutdown(0);
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool QueueRunner::Scan() {
  std::vector<std::string> names;
  Status s = Env::Default()->ListDir(paths_.queue(), &names);
  if (!s.ok()) {
    log_->Error("cannot scan the queue: " + s.message());
    return false;
  }
  bool flush = false;
  for (const std::string& n : names) {
    if (SpoolPaths::IsTrigger(n, Trigger::kWake)) {  // relayctl retry/bounce: a run, nothing more
      unlink(paths_.trigger(Trigger::kWake).c_str());
      continue;
    }
    if (SpoolPaths::IsTrigger(n, Trigger::kFlush)) {
      unlink(paths_.trigger(Trigger::kFlush).c_str());
      flush = true;  // applied once every entry is known
      continue;
    }
    if (!IsQueueId(n) || schedule_.Knows(n)) continue;
    int64_t next = 0;
    std::string text;
    if (Env::Default()->ReadFile(paths_.state_file(n), &text, nullptr).ok()) {
      next = ParseNextAttempt(text);
    }
    schedule_.Add(n, next);
  }
  if (flush) FlushAll();
  // Remove what injectors killed by SIGKILL left behind at once: their
  // reserved space would keep the spool at its floor (or full) for
  // everyone. A live writer (a cron job streaming for a day) holds a lock.
  // Writers create only regular files there: anything else was planted or
  // made by hand. It is named once (not on every scan) and left alone, as
  // removing it could mean recursing into a directory relay never made.
  if (Env::Default()->ListDir(paths_.tmp(), &names).ok()) {
    time_t now = time(nullptr);
    for (const std::string& n : names) {
      std::string p = paths_.tmp_file(n);
      struct stat st;
      if (lstat(p.c_str(), &st) != 0 || now - st.st_mtime <= kDeadWriterSeconds) continue;
      if (!S_ISREG(st.st_mode)) {
        const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                           : S_ISLNK(st.st_mode)  ? "a symbolic link"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "a device";
        if (tmp_oddities_.insert(n).second)
          log_->Warn(Printable(p) + ": " + what + ", not a temporary file; left alone");
        continue;
      }
      int fd = open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      bool held = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0;
      if (fd >= 0) close(fd);
      if (held) continue;
      if (unlink(p.c_str()) != 0) {
        if (tmp_oddities_.insert(n).second)
          log_->Warn("cannot remove temporary file " + Printable(p) + ": " + std::strerror(errno));
        continue;
      }
      log_->Info("removed temporary file " + p + " (its writer is gone)");
    }
  }
  return flush;
}

void QueueRunner::Add(const std::string& id) {
  if (SpoolPaths::IsTrigger(id, Trigger::kFlush)) {
    unlink(paths_.trigger(Trigger::kFlush).c_str());
    FlushAll();
    return;
  }
  if (IsQueueId(id)) schedule_.Add(id, 0);
}

void QueueRunner::FlushAll() {
  schedule_.FlushAll();
  // A flush retries now: a quota pause is relay's guess and is lifted;
  // the configured limits still hold.
  if (limits_) limits_->ClearPauses();
  // A flush says "try now": every smarthost gets its chance again, in the
  // configured order, and the stored trouble is cleared with this run.
  hosts_.Clear();
  stats_.Flushed();
  flushed_ = true;
}

void QueueRunner::SetProviderPolicy(SenderPolicy sender, std::vector<QuotaPattern> quota_patterns) {
  sender_ = std::move(sender);
  limits_ = std::make_unique<ProviderLimits>(cfg_, std::move(quota_patterns), LoadLimits(paths_));
}

void QueueRunner::SaveLimitsLedger(bool force) {
  if (!limits_) return;
  int64_t now = Now();
  if (!force && now - last_limits_save_ < 1000000) return;
  bool changed = false;
  RateLimiter ledger = limits_->Snapshot(now, &changed);
  if (!changed) return;
  last_limits_save_ = now;
  Status s = SaveLimits(paths_, ledger);
  if (!s.ok()) log_->Error("cannot write " + paths_.limits_file() + ": " + s.message());
}

bool QueueRunner::HeldByLimits(int64_t now) {
  if (!limits_) return false;
  std::string why;
  int64_t until = limits_->EarliestAllowed(cfg_.smarthosts, now, &why);
  if (until <= now) return false;
  if (until > schedule_.site_down_until())
    log_->Info("deliveries wait " + std::to_string((until - now + 999999) / 1000000) + "s: " + why);
  schedule_.ExtendPause(until, why);
  std::lock_guard<std::mutex> lock(mu_);
  for (const Work& work : work_) schedule_.Requeue(work.id);
  work_.clear();
  return true;
}

bool QueueRunner::PopWork(Worker* self, Work* w) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || work_.empty()) {
    self->exiting = true;
    return false;
  }
  *w = work_.front();
  work_.pop_front();
  return true;
}

void QueueRunner::Post(Report r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back(std::move(r));
  }
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

void QueueRunner::WorkerMain(Worker* w) {
  Work work;
  while (PopWork(w, &work)) {
    const std::string& id = work.id;
    Report r;
    r.id = id;
    LoadedMessage m;
    Status s = LoadMessage(paths_, id, &m);
    if (s.ok()) {
      // Progress that could not be written (a full disk) must not be
      // forgotten: recipients already accepted are never sent again.
      std::lock_guard<std::mutex> lock(mu_);
      auto u = unsaved_.find(id);
      if (u != unsaved_.end() && u->second.rcpts.size() == m.state.rcpts.size()) m.state = u->second;
    }
    if (!s.ok()) {
      if (s.kind() == Status::Kind::kDataErr) {
        // Never delivered half, never crashing the runner: moved aside.
        MoveAside(id, s.message());
        r.removed = true;
      } else if (s.message().find("No such file") != std::string::npos) {
        r.removed = true;  // gone meanwhile (relayctl delete, another runner)
      } else {
        log_->Warn(id + ": " + s.message());
        r.next = Now() + 1000000;
      }
      Post(std::move(r));
      continue;
    }
    std::string site_error;
    AttemptResult a = w->deliverer->Deliver(&m, work.forced, &site_error);
    if (!a.corrupt.empty()) MoveAside(id, a.corrupt);
    r.removed = a.removed || !a.corrupt.empty();
    r.next = a.next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (a.state_unsaved) unsaved_[id] = m.state;
      else unsaved_.erase(id);
    }
    if (!site_error.empty()) {
      r.site_failed = true;
      r.site_error = site_error;
      Post(std::move(r));
      break;  // this worker's connection failed; the main loop decides what next
    }
    if (a.wait_until > 0) {
      r.wait_until = a.wait_until;
      r.wait_reason = a.wait_reason;
      Post(std::move(r));
      break;  // held by a provider limit: the main loop pauses or goes on
    }
    Post(std::move(r));
  }
  w->deliverer->Close();
  w->done = true;
  Post(Report());  // wakes the main loop so it can join this thread
}

void QueueRunner::MoveAside(const std::string& id, const std::string& why) {
  std::string from = paths_.queue_file(id);
  std::string to = paths_.corrupt_file(id);
  if (rename(from.c_str(), to.c_str()) == 0) {
    stats_.MovedToCorrupt();
    log_->Error(id + ": corrupt queue entry moved to " + to + ": " + why);
    return;
  }
  // A directory planted by someone else cannot change parents (its ".."
  // would need their permission); a new name in queue/ itself, which the
  // relay user owns, takes it out of every scan all the same.
  std::string err = std::strerror(errno);
  std::string aside = paths_.corrupt_aside_file(id);
  if (rename(from.c_str(), aside.c_str()) == 0) {
    stats_.MovedToCorrupt();
    log_->Error(id + ": corrupt queue entry (" + why + ") cannot go to " + to + " (" + err +
                "); renamed to " + aside);
    return;
  }
  log_->Error(id + ": corrupt queue entry (" + why + ") left in place: cannot move it to " + to + ": " + err);
}

void QueueRunner::RetryUnsaved() {
  int64_t now = Now();
  if (now - last_unsaved_try_ < 1000000) return;
  last_unsaved_try_ = now;
  // Copied under the lock, written without it: a slow, failing disk must
  // not hold up the workers. A stalled entry gets no new work, so only
  // this thread changes its unsaved_ record meanwhile.
  std::vector<std::pair<std::string, DeliveryState>> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, st] : unsaved_)
      if (!schedule_.Busy(id)) todo.emplace_back(id, st);
  }
  for (const auto& [id, st] : todo) {
    bool gone = access(paths_.queue_file(id).c_str(), F_OK) != 0 && errno == ENOENT;
    if (gone) {
      // Deleted meanwhile (relayctl delete): its progress has nothing
      // left to protect, and a state file now would outlive it.
      log_->Info(id + ": removed while its delivery progress was unwritten; progress dropped");
    } else {
      Status s = Env::Default()->WriteFileAtomic(paths_.state_file(id), EncodeState(st), 0600);
      if (!s.ok()) continue;
      log_->Info(id + ": delivery progress recorded; deliveries of it resume");
    }
    std::lock_guard<std::mutex> lock(mu_);
    unsaved_.erase(id);
    if (gone) schedule_.Remove(id);
    else schedule_.SetNext(id, st.next_attempt_micros);
  }
}

size_t QueueRunner::unsaved() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsaved_.size();
}

void QueueRunner::Dispatch() {
  RetryUnsaved();
  int64_t now = Now();
  if (schedule_.Paused(now) || HeldByLimits(now)) return;
  auto stalled = [this](const std::string& id) { return Stalled(id); };
  bool any_due = false;
  size_t waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    any_due = schedule_.AnyDue(now, stalled);
    waiting = work_.size();
  }
  if (!any_due && waiting == 0) return;
  bool need_tls = false;
  for (const Smarthost& h : cfg_.smarthosts) need_tls |= h.tls != TlsMode::kNone;
  if (need_tls && !tls_) {
    std::unique_ptr<TlsContext> t;
    Status s = TlsContext::Create(cfg_, &t);
    if (!s.ok()) {
      // Nothing can be delivered until the files are fixed: pause, as for a
      // dead smarthost, rather than spin (--once then ends).
      schedule_.PauseUntil(now + cfg_.retry_min * 1000000, s.message());
      site_error_ = s.message();
      log_->Error(s.message() + "; deliveries paused for " + std::to_string(cfg_.retry_min) + "s");
      return;
    }
    tls_ = std::move(t);
  }
  size_t queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    for (Work& w : schedule_.TakeDue(now, stalled)) work_.push_back(std::move(w));
    queued = work_.size();
  }
  size_t active = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : workers_) active += !w->done && !w->exiting;
  }
  while (queued > active && active < static_cast<size_t>(cfg_.max_connections)) {
    // One worker per waiting message, up to the limit: each takes messages
    // one after another over its connection.
    auto w = std::make_unique<Worker>();
    DeliveryContext ctx{&cfg_, &paths_, &aliases_, hostname_, log_, &dir_dirty_, &hosts_, &stats_};
    ctx.domain = domain_;
    ctx.sender = sender_.active() ? &sender_ : nullptr;
    ctx.limits = limits_.get();
    w->deliverer = std::make_unique<Deliverer>(ctx, tls_);
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { WorkerMain(raw); });
    workers_.push_back(std::move(w));
    ++active;
  }
}

void QueueRunner::Collect() {
  uint64_t n;
  while (read(wake_fd_, &n, sizeof n) > 0) {
  }
  std::vector<Report> reports;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reports.swap(reports_);
  }
  for (Report& r : reports) {
    if (r.id.empty() || !schedule_.Knows(r.id)) continue;
    if (r.removed) {
      schedule_.Remove(r.id);
      continue;
    }
    schedule_.Done(r.id, r.next);
    if (r.wait_until > 0) {
      // Held by a limit or a quota reply: not a failure. Deliveries pause
      // while every smarthost is held; else the entry goes to another.
      if (!HeldByLimits(Now())) schedule_.Done(r.id, 0);
      continue;
    }
    if (r.site_failed) {
      // The smarthost is unreachable: stop handing out work until it might
      // be back, instead of failing every queued message against it.
      int64_t delay = schedule_.SiteFailed(Now(), cfg_.retry_min);
      site_error_ = "unreachable: " + r.site_error;
      log_->Warn("smarthost unavailable, pausing deliveries for " + std::to_string(delay) +
                 "s: " + r.site_error);
      std::lock_guard<std::mutex> lock(mu_);
      for (const Work& work : work_) schedule_.Requeue(work.id);
      work_.clear();
    } else {
      schedule_.SiteReached();
    }
  }
  for (auto it = workers_.begin(); it != workers_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  SyncQueueDirIfDirty();
  SaveLimitsLedger(false);
  // Idle: give back the TLS context (and the CA store it holds).
  if (workers_.empty()) tls_.reset();
}

void QueueRunner::SyncQueueDirIfDirty() {
  // Removals are made durable in batches: one directory fsync covers many
  // delivered messages. Losing an unsynced removal in a crash means a
  // duplicate, never a loss.
  int64_t now = Now();
  if (!dir_dirty_ || (now - last_dir_sync_ < 50000 && !workers_.empty())) return;
  dir_dirty_ = false;
  last_dir_sync_ = now;
  Env::Default()->SyncDir(paths_.queue());
}

void QueueRunner::WriteStatus() {
  RunStatus run;
  {
    std::lock_guard<std::mutex> l(stats_.mu);
    run.last_sent = stats_.last_sent;
    run.last_error_time = stats_.last_error_time;
    run.last_error = stats_.last_error;
  }
  RunStatus st = LoadRunStatus(paths_);
  st.Merge(run);
  SaveRunStatus(paths_, st);
  SaveLimitsLedger(true);
  WriteHealth();
}

void QueueRunner::WriteHealth() {
  Health run = stats_.TakeRun();
  int64_t now = Now();
  int64_t pause = schedule_.site_down_until();
  Health merged;
  // Token facts (no secrets) are the store's; read before the lock.
  std::map<std::string, TokenFacts> tokens = ReadTokenFacts(cfg_, stats_.TakeTokenProblems());
  Status s = UpdateHealth(paths_, [&](Health* h) {
    for (const auto& [name, f] : tokens) {
      SmarthostHealth* sh = FindHost(h, name);
      sh->token_expiry = f.access_expiry * 1000000;
      sh->token_refreshed = f.last_refresh * 1000000;
      sh->refresh_token_issued = f.refresh_token_issued * 1000000;
      if (f.checked) sh->token_problem = f.problem;  // "" clears a problem this run fixed
    }
    if (flushed_)
      for (SmarthostHealth& sh : h->hosts) sh.ClearTrouble();
    MergeRun(run, h);
    // The pause covers every smarthost: this run found none it could use.
    if (pause > now && !site_error_.empty())  // set by this run, not carried over
      for (const Smarthost& c : cfg_.smarthosts) {
        SmarthostHealth* sh = FindHost(h, HostKey(c));
        sh->pause_until = pause;
        sh->pause_reason = site_error_;
      }
    // Provider limits and quota replies hold each smarthost apart.
    for (const Smarthost& c : cfg_.smarthosts) {
      std::string why;
      int64_t until = limits_ ? limits_->NextAllowed(HostKey(c), now, &why) : now;
      if (until <= now) continue;
      SmarthostHealth* sh = FindHost(h, HostKey(c));
      if (until <= sh->pause_until) continue;
      sh->pause_until = until;
      // "quota: 550 5.4.5 ...", "smarthost_rate_limit: ...", as contracts.md shows it.
      sh->pause_reason = why.rfind("paused: ", 0) == 0 ? why.substr(8) : why;
    }
    merged = *h;
  });
  if (!s.ok()) log_->Error("cannot write " + paths_.health_file() + ": " + s.message());
  if (!cfg_.metrics_file.empty()) WriteMetrics(s.ok() ? merged : LoadHealth(paths_));
}

void QueueRunner::WriteMetrics(Health health) {
  std::vector<std::string> names;
  for (const Smarthost& c : cfg_.smarthosts) names.push_back(HostKey(c));
  KeepHosts(names, &health);
  QueueSummary q;
  Status s = ReadQueueSummary(paths_, &q);
  if (s.ok()) s = WriteMetricsFile(cfg_.metrics_file, EncodeMetrics(health, q, Now()));
  if (!s.ok()) log_->Error("cannot write the metrics: " + s.message());
}

bool QueueRunner::Idle() const {
  return workers_.empty() && unsaved() == 0 && !schedule_.AnyBusy();
}

int64_t QueueRunner::MicrosUntilDue() const { return schedule_.MicrosUntilDue(Now()); }

void QueueRunner::Shutdown(int grace_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    work_.clear();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  for (;;) {
    bool all_done = true;
    for (auto& w : workers_) all_done &= w->done.load();
    if (all_done || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever is still in flight is abandoned: the server's reply never
  // came, so nothing is marked done and the message stays queued. Not so a
  // message whose final dot is sent: the smarthost may have taken it, so
  // its reply is waited for (up to timeout_data_done), else it would be
  // sent twice after a restart.
  int final = 0;
  for (auto& w : workers_) final += !w->done.load() && w->deliverer->in_final();
  if (final > 0)
    log_->Info("stopping: waiting up to " + std::to_string(cfg_.timeout_data_done) +
               "s for the smarthost's reply to " + std::to_string(final) + " message(s) already sent");
  for (auto& w : workers_) w->deliverer->Abort();
  for (auto& w : workers_) w->thread.join();
  workers_.clear();
  dir_dirty_ = true;
  last_dir_sync_ = 0;
  SyncQueueDirIfDirty();
  tls_.reset();
  // Progress still only in memory is lost with this process: say which
  // recipients a later run will send to again.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, st] : unsaved_) {
    size_t done = st.rcpts.size() - st.pending();
    if (done > 0)
      log_->Error(id + ": stopping with delivery progress not written: " + std::to_string(done) +
                  " recipient(s) already done will be tried again (possible duplicate)");
  }
  unsaved_.clear();
}

}  // namespace relay
