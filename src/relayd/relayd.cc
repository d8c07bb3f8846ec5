#include "relay/relayd/relayd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "relay/listen/admission.h"
#include "relay/listen/auth_failures.h"
#include "relay/base/config.h"
#include "relay/base/credentials.h"
#include "relay/base/env.h"
#include "relay/base/host.h"
#include "relay/listen/listener.h"
#include "relay/base/log.h"
#include "relay/queue/privileges.h"
#include "relay/queue/run_status.h"
#include "relay/queue/spool.h"
#include "relay/relayd/monitor.h"
#include "relay/relayd/sd_notify.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {
namespace {

// The safety net: a delivery run at least this often, for anything inotify
// missed and for retries whose time relay-deliver could not report.
constexpr int64_t kRescanMicros = 300LL * 1000000;
// After relay-deliver failed (not a delivery failure: its own, such as a
// bad TLS file), wait this long before the next run instead of looping.
constexpr int64_t kFailedRunBackoffMicros = 60LL * 1000000;

struct Args {
  std::string config = RELAY_DEFAULT_CONFIG;
  bool config_named = false;  // -C given: the file must exist
  bool once = false;
  bool flush = false;
  bool detach = false;
  bool verbose = false;
};

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "relayd: %s\n", msg.c_str());
  return code;
}

int64_t Now() { return Env::Default()->NowMicros(); }

// Seconds for the AUTH failure table: a clock that setting the date does
// not move, so that no one shortens or lengthens a refusal that way.
int64_t MonotonicSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

AuthFailureLimits FailureLimits(const Config& cfg) {
  AuthFailureLimits l;
  l.limit = cfg.listen_auth_failure_limit;
  l.window = cfg.listen_auth_failure_window;
  return l;
}

// relay-deliver: next to relayd (a build tree), else where it is installed.
std::string DeliverPath() { return HelperPath("relay-deliver"); }

// relay-deliver --probe: the heartbeat's check that the smarthost answers.
std::vector<std::string> ProbeArgv(const Args& a) {
  std::vector<std::string> v = {"relay-deliver", "-C", a.config, "--probe"};
  if (a.verbose) v.push_back("-v");
  return v;
}

std::vector<std::string> DeliverArgv(const Args& a, bool flush, bool report, SmarthostPause pause = {}) {
  std::vector<std::string> v = {"relay-deliver", "-C", a.config, flush ? "--flush" : "--once"};
  if (report) v.push_back("--report");
  for (std::string& arg : pause.ToArgs()) v.push_back(std::move(arg));
  if (a.verbose) v.push_back("-v");
  return v;
}

void Exec(const std::string& path, const std::vector<std::string>& argv) {
  std::vector<char*> p;
  for (const std::string& s : argv) p.push_back(const_cast<char*>(s.c_str()));
  p.push_back(nullptr);
  execv(path.c_str(), p.data());
}

// A client of the listener being served: its address, whether it came
// from beyond loopback (counted in its own pool), and whether relay-smtpd
// serves it (its exit status reports wrong passwords).
struct SmtpChild {
  std::string addr;
  bool remote;
  bool smtpd;
};

class Supervisor {
 public:
  Supervisor(Args args, Config cfg, Logger* log, std::vector<Listener> listeners, SystemdNotifier notifier)
      : args_(std::move(args)), cfg_(std::move(cfg)), log_(log), deliver_(DeliverPath()), smtpd_(HelperPath("relay-smtpd")),
        listeners_(std::move(listeners)), auth_failures_(FailureLimits(cfg_)),
        monitor_(cfg_, log_, GetHostNames(Env::Default()).fqdn, deliver_, ProbeArgv(args_)),
        notifier_(std::move(notifier)) {}
  int Run();

 private:
  void Spawn();
  void ReapAll();
  void FinishRun(int status);
  void Accept(const Listener& l);
  AdmissionInput AdmissionFor(const Listener& l, const sockaddr_storage& peer, const std::string& addr) const;
  void Refuse(int fd, std::string_view reply);
  pid_t StartSession(int fd, const Listener& l, bool smtpd);
  void SmtpdEnded(const SmtpChild& c, int status);
  void OnNewEntries(int ifd);
  bool OnSignals(int sfd);  // false: stop
  // The poll timeout (ms) until the earliest of: the next run, the safety
  // rescan, the monitor's work, the watchdog's next pet.
  int PollTimeout(int64_t now) const;
  void PetWatchdog(int64_t now);

  Args args_;
  Config cfg_;
  Logger* log_;
  std::string deliver_;
  std::string smtpd_;
  pid_t child_ = -1;
  int child_out_ = -1;
  std::string report_;
  bool dirty_ = false;           // entries arrived while a run was going
  int64_t due_ = 0;              // next run (micros); -1 none
  int64_t last_run_ = 0;
  int64_t hold_until_ = 0;       // the smarthost pause reported by the last run
  int site_failures_ = 0;
  std::vector<Listener> listeners_;  // the SMTP listener's sockets
  std::map<pid_t, SmtpChild> smtp_children_;
  // Wrong passwords per client address, across relay-smtpd's sessions.
  AuthFailureTable auth_failures_;
  int sfd_ = -1, ifd_ = -1;
  // Alerts and heartbeat (monitor.h), beside delivery, never blocking it.
  Monitor monitor_;
  // systemd's READY and WATCHDOG (sd_notify.h); inert without NOTIFY_SOCKET.
  SystemdNotifier notifier_;
  int64_t next_pet_ = -1;
};

void Supervisor::Spawn() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    log_->Error(std::string("pipe: ") + std::strerror(errno));
    due_ = Now() + kFailedRunBackoffMicros;
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    log_->Error(std::string("fork: ") + std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    due_ = Now() + kFailedRunBackoffMicros;
    return;
  }
  if (pid == 0) {
    // If relayd dies, its delivery run ends too (gracefully: SIGTERM), so
    // that a restarted relayd never has two runs on one spool.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(fds[1], 1);
    Exec(deliver_, DeliverArgv(args_, false, true, SmarthostPause{site_failures_, hold_until_}));
    _exit(EX_UNAVAILABLE);
  }
  close(fds[1]);
  child_ = pid;
  child_out_ = fds[0];
  report_.clear();
  dirty_ = false;
  due_ = -1;
  last_run_ = Now();
}

void Supervisor::ReapAll() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == child_) {
      FinishRun(status);
      continue;
    }
    if (monitor_.Reaped(pid, status, Now())) continue;
    auto it = smtp_children_.find(pid);
    if (it == smtp_children_.end()) continue;
    if (it->second.smtpd) SmtpdEnded(it->second, status);
    smtp_children_.erase(it);
  }
}

// relay-smtpd's exit status says how many wrong passwords its session
// saw (it logged each one); they count against the client's address.
// Loopback clients (of an smtps address) are not counted, as Postfix
// exempts $mynetworks from its anvil limits: they all share 127.0.0.1,
// and one local program's wrong password must not lock out the others.
void Supervisor::SmtpdEnded(const SmtpChild& c, int status) {
  if (!c.remote || !WIFEXITED(status)) return;
  int n = AuthFailuresFromExitStatus(WEXITSTATUS(status));
  if (n == 0) return;
  int64_t now = MonotonicSeconds();
  bool was_blocked = auth_failures_.Blocked(c.addr, now);
  int count = auth_failures_.Record(c.addr, n, now);
  if (!was_blocked && auth_failures_.Blocked(c.addr, now))
    log_->Warn("unknown[" + c.addr + "]: " + std::to_string(count) + " authentication failures in " +
               std::to_string(cfg_.listen_auth_failure_window) + "s (listen_auth_failure_limit): "
               "refusing its connections for " + std::to_string(auth_failures_.BlockedFor(c.addr, now)) + "s");
}

// Turns a client away: the reply Admit() chose, if any, then the close.
void Supervisor::Refuse(int fd, std::string_view reply) {
  if (!reply.empty()) {
    ssize_t ignored = write(fd, reply.data(), reply.size());
    (void)ignored;
  }
  close(fd);
}

// What Admit() needs about a client of l: its class, the AUTH failure
// table's verdict on its address, and the sessions already open.
AdmissionInput Supervisor::AdmissionFor(const Listener& l, const sockaddr_storage& peer,
                                        const std::string& addr) const {
  AdmissionInput in;
  in.client = ClassifyClient(cfg_, peer);
  in.tls = l.tls;
  in.auth_blocked = auth_failures_.Blocked(addr, MonotonicSeconds());
  for (const auto& [pid, c] : smtp_children_) {
    in.same_client += c.addr == addr;
    ++(c.remote ? in.remote_pool : in.loopback_pool);
  }
  in.max_connections = cfg_.listen_max_connections;
  in.max_per_client = cfg_.listen_max_per_client;
  return in;
}

// The SMTP listener: one child per client, as the relay user, running the
// same SmtpServer and durable commit as sendmail -bs. Admit() says who is
// served, by whom, and who is turned away at once (and why).
void Supervisor::Accept(const Listener& l) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::string addr = AddrText(peer);
    Admission a = Admit(AdmissionFor(l, peer, addr));
    if (a.action == AdmitAction::kRefuse) {
      Refuse(fd, a.reply);
      log_->Warn(AdmissionLogLine(a, addr, AddrPort(peer)));
      continue;
    }
    bool smtpd = a.action == AdmitAction::kStartSmtpd;
    pid_t pid = StartSession(fd, l, smtpd);
    close(fd);
    if (pid > 0) smtp_children_[pid] = {addr, a.remote, smtpd};
  }
}

// The child that serves the client on fd: relayd's own ServeClient, or
// relay-smtpd. Returns its pid, or -1 when fork failed.
pid_t Supervisor::StartSession(int fd, const Listener& l, bool smtpd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  for (const Listener& other : listeners_) close(other.fd);
  close(sfd_);
  close(ifd_);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!smtpd) _exit(ServeClient(fd, cfg_, log_));
  // Beyond loopback: TLS and AUTH, in a program that links OpenSSL
  // so that relayd does not have to.
  // The socket becomes fd 0, kept across exec (dup2 clears
  // close-on-exec; if accept gave fd 0 itself, clear it by hand).
  if (fd == 0) fcntl(0, F_SETFD, 0);
  else dup2(fd, 0);
  std::vector<std::string> argv = {"relay-smtpd", "-C", args_.config};
  if (l.tls == TlsMode::kSmtps) argv.push_back("--smtps");
  Exec(smtpd_, argv);
  log_->Error("cannot run " + smtpd_ + ": " + std::strerror(errno));
  _exit(EX_UNAVAILABLE);
}

void Supervisor::FinishRun(int status) {
  char buf[256];
  ssize_t n;
  while ((n = read(child_out_, buf, sizeof buf)) > 0) report_.append(buf, static_cast<size_t>(n));
  close(child_out_);
  child_out_ = -1;
  child_ = -1;
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  RunReport r;
  if (!ok || !RunReport::Parse(report_, &r)) {
    log_->Error(deliver_ + " failed (status " + std::to_string(status) + "); next run in 60s");
    due_ = Now() + kFailedRunBackoffMicros;
    monitor_.AfterRun(RunReport(), Now());
    return;
  }
  monitor_.AfterRun(r, Now());
  hold_until_ = r.pause.until;
  site_failures_ = r.pause.failures;
  due_ = r.next;
  // Arrivals during the run: go again now, unless the smarthost is down,
  // in which case they wait with the rest (no hammering a dead host).
  if (dirty_) due_ = std::max<int64_t>(0, Now() < hold_until_ ? hold_until_ : 0);
}

void Supervisor::OnNewEntries(int ifd) {
  alignas(struct inotify_event) char buf[8192];
  ssize_t len;
  bool any = false, flush = false;
  while ((len = read(ifd, buf, sizeof buf)) > 0) {
    any = true;
    for (char* q = buf; q < buf + len;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(q);
      if (ev->len > 0 && SpoolPaths::IsTrigger(ev->name, Trigger::kFlush)) flush = true;
      q += sizeof(struct inotify_event) + ev->len;
    }
  }
  if (!any) return;
  // A flush request lifts the smarthost pause; new entries wait for it.
  if (flush) hold_until_ = site_failures_ = 0;
  int64_t when = Now() < hold_until_ ? hold_until_ : 0;
  if (child_ > 0) dirty_ = true;
  else if (due_ < 0 || when < due_) due_ = when;
}

bool Supervisor::OnSignals(int sfd) {
  struct signalfd_siginfo si;
  bool go_on = true;
  while (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) {
      ReapAll();
    } else if (si.ssi_signo == SIGHUP) {
      Config fresh;
      Status s = LoadConfig(Env::Default(), args_.config, &fresh);
      if (!s.ok()) {
        log_->Error("SIGHUP: keeping the old configuration: " + s.message());
      } else {
        cfg_ = fresh;
        auth_failures_.SetLimits(FailureLimits(cfg_));
        monitor_.SetConfig(cfg_);
        log_->Info("reloaded " + args_.config + "; the next delivery run uses it");
        if (child_ < 0) due_ = 0;
      }
    } else {
      go_on = false;
    }
  }
  return go_on;
}

int Supervisor::PollTimeout(int64_t now) const {
  int64_t wake = child_ > 0 ? -1 : due_;
  int64_t safety = last_run_ + kRescanMicros;
  if (child_ < 0 && (wake < 0 || wake > safety)) wake = safety;
  for (int64_t w : {monitor_.NextWake(child_ > 0), next_pet_})
    if (w >= 0 && (wake < 0 || w < wake)) wake = w;
  return wake < 0 ? -1 : static_cast<int>(std::min<int64_t>((std::max<int64_t>(wake - now, 0) + 999) / 1000, INT_MAX));
}

// The watchdog is petted from the main loop only, at half its interval
// (as sd_watchdog_enabled(3) advises): a loop that hangs stops petting,
// and systemd restarts relayd.
void Supervisor::PetWatchdog(int64_t now) {
  if (next_pet_ < 0 || now < next_pet_) return;
  notifier_.Send("WATCHDOG=1");
  next_pet_ = now + std::max<int64_t>(notifier_.watchdog_micros() / 2, 1000);
}

int Supervisor::Run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = sfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int ifd = ifd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  std::string queue = SpoolPaths(cfg_.spool_dir).queue();
  if (sfd < 0 || ifd < 0 || inotify_add_watch(ifd, queue.c_str(), IN_CREATE | IN_MOVED_TO) < 0)
    return Fail("cannot watch " + queue + ": " + std::strerror(errno), EX_OSERR);
  log_->Info("starting: spool " + cfg_.spool_dir + ", delivery by " + deliver_);
  due_ = 0;  // a first run at start-up
  // Ready: the queue is watched (and the listener's sockets are open).
  notifier_.Send("READY=1");
  if (notifier_.watchdog_micros() > 0) next_pet_ = 0;
  for (;;) {
    int64_t now = Now();
    PetWatchdog(now);
    if (child_ < 0 && due_ >= 0 && due_ <= now) Spawn();
    monitor_.Tick(now, child_ > 0);
    int timeout = PollTimeout(now);
    std::vector<pollfd> p = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}};
    for (const Listener& l : listeners_) p.push_back({l.fd, POLLIN, 0});
    int n = poll(p.data(), p.size(), timeout);
    if (n < 0 && errno != EINTR) break;
    if (p[1].revents & POLLIN) OnNewEntries(ifd);
    for (size_t i = 2; i < p.size(); ++i)
      if (p[i].revents & POLLIN) Accept(listeners_[i - 2]);
    if ((p[0].revents & POLLIN) && !OnSignals(sfd)) break;
    if (child_ < 0 && due_ < 0 && Now() >= last_run_ + kRescanMicros) due_ = 0;
  }
  log_->Info("stopping");
  notifier_.Send("STOPPING=1");
  monitor_.Stop();
  for (const auto& [pid, c] : smtp_children_) kill(pid, SIGTERM);
  if (child_ > 0) {
    // relay-deliver finishes or abandons what is in flight within its
    // grace period; nothing it did not record as done is lost.
    kill(child_, SIGTERM);
    int status;
    waitpid(child_, &status, 0);
  }
  return 0;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-C" && i + 1 < argc) a->config = argv[++i], a->config_named = true;
    else if (s == "--once") a->once = true;
    else if (s == "--flush" || s == "-q") a->flush = a->once = true;
    else if (s == "-d") a->detach = true;
    else if (s == "-v") a->verbose = true;
    else {
      *err = "usage: relayd [-C FILE] [-d] [-v] [--once] [--flush]";
      return false;
    }
  }
  return true;
}

}  // namespace

int RunRelayd(int argc, char** argv) {
  Args args;
  std::string err;
  if (!ParseArgs(argc, argv, &args, &err)) return Fail(err, EX_USAGE);
  // -d changes directory to /: keep a relative -C meaningful.
  if (char* abs = realpath(args.config.c_str(), nullptr)) {
    args.config = abs;
    free(abs);
  }
  if (args.once && args.config_named) {
    // relay-deliver takes relayd's -C even for the default file, which may
    // be missing: a named file that is missing is refused here.
    Config named;
    Status s = LoadConfig(Env::Default(), args.config, &named, true);
    if (!s.ok()) return Fail(s.message(), s.exit_code());
  }
  if (args.once) {
    // One run in the foreground is relay-deliver's job.
    std::string path = DeliverPath();
    Exec(path, DeliverArgv(args, args.flush, false));
    return Fail("cannot run " + path + ": " + std::strerror(errno), EX_UNAVAILABLE);
  }
  Config cfg;
  Status s = LoadConfig(Env::Default(), args.config, &cfg, args.config_named);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  // Listening sockets first: port 25 needs root (or systemd's sockets).
  std::vector<Listener> listeners;
  s = OpenListeners(cfg, &listeners);
  if (!s.ok()) return Fail(s.message(), EX_OSERR);
  s = DropToSpoolOwner(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  s = CheckConfiguredSecret(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  // The listener's secrets are read per client by relay-smtpd; a wrong
  // owner or mode is refused here, at start, not at the first client.
  if (!cfg.listen_allow.empty()) {
    s = CheckSecretFile(cfg.listen_tls_key_file, "listen_tls_key_file");
    if (s.ok() && !cfg.listen_auth_users.empty()) s = CheckSecretFile(cfg.listen_auth_users, "listen_auth_users");
    if (!s.ok()) return Fail(s.message(), s.exit_code());
  }
  if (args.detach && daemon(0, 0) != 0) return Fail(std::string("daemon: ") + std::strerror(errno), EX_OSERR);
  Logger log(cfg.log, args.verbose);
  // After -d's fork: WATCHDOG_PID must name this process.
  std::string problem;
  SystemdNotifier notifier = SystemdNotifier::FromEnvironment(&problem);
  if (!problem.empty()) log.Warn(problem);
  Supervisor sup(args, cfg, &log, listeners, std::move(notifier));
  return sup.Run();
}

}  // namespace relay
