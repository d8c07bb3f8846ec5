#include "relay/relayd.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <algorithm>
#include <string>

#include "relay/config.h"
#include "relay/credentials.h"
#include "relay/env.h"
#include "relay/host.h"
#include "relay/log.h"
#include "relay/privileges.h"
#include "relay/runner.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {
namespace {

// The safety-net rescan, for anything inotify did not report.
constexpr int kRescanSeconds = 300;
// How long SIGTERM waits for transactions in flight before abandoning them.
constexpr int kShutdownGraceMs = 3000;

struct Args {
  std::string config = RELAY_DEFAULT_CONFIG;
  bool once = false;
  bool flush = false;
  bool detach = false;
  bool verbose = false;
};

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "relayd: %s\n", msg.c_str());
  return code;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-C" && i + 1 < argc) a->config = argv[++i];
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

int RunOnce(QueueRunner* runner, bool flush) {
  // A few rounds: a round may queue bounces, which this run delivers too.
  for (int round = 0; round < 3; ++round) {
    size_t before = runner->size();
    runner->Scan();
    if (flush && round == 0) runner->FlushAll();
    if (round > 0 && runner->size() == before) break;
    runner->Dispatch();
    while (!runner->Idle()) {
      struct pollfd p = {runner->wake_fd(), POLLIN, 0};
      poll(&p, 1, 1000);
      runner->Collect();
      runner->Dispatch();
    }
  }
  runner->Shutdown(0);
  return 0;
}

}  // namespace

int RunRelayd(int argc, char** argv) {
  Args args;
  std::string err;
  if (!ParseArgs(argc, argv, &args, &err)) return Fail(err, EX_USAGE);
  Config cfg;
  Status s = LoadConfig(Env::Default(), args.config, &cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  s = DropToSpoolOwner(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  // A secret others can read is refused at start, naming the mode to set.
  if (!cfg.auth_password_file.empty()) {
    s = CheckSecretFile(cfg.auth_password_file);
    if (!s.ok()) return Fail(s.message(), s.exit_code());
  }
  signal(SIGPIPE, SIG_IGN);

  Logger log(args.once && cfg.log == "syslog" && args.verbose ? "stderr" : cfg.log, args.verbose);
  HostNames host = GetHostNames(Env::Default());
  if (cfg.domain.empty()) cfg.domain = DefaultDomain(Env::Default(), host);
  auto runner = std::make_unique<QueueRunner>(cfg, &log, host.fqdn);
  if (args.once) return RunOnce(runner.get(), args.flush);

  if (args.detach && daemon(0, 0) != 0) return Fail(std::string("daemon: ") + std::strerror(errno), EX_OSERR);

  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  std::string queue = SpoolPaths(cfg.spool_dir).queue();
  if (sfd < 0 || ifd < 0 || inotify_add_watch(ifd, queue.c_str(), IN_CREATE | IN_MOVED_TO) < 0)
    return Fail("cannot watch " + queue + ": " + std::strerror(errno), EX_OSERR);

  log.Info("starting: spool " + cfg.spool_dir + ", smarthost " +
           (cfg.smarthosts.empty() ? std::string("(none)") : cfg.smarthosts.front().host));
  runner->Scan();
  time_t last_scan = time(nullptr);
  for (;;) {
    runner->Dispatch();
    int64_t wait_us = runner->MicrosUntilDue();
    int64_t to_scan = (last_scan + kRescanSeconds - time(nullptr)) * 1000000;
    if (wait_us < 0 || wait_us > to_scan) wait_us = std::max<int64_t>(to_scan, 0);
    int timeout = static_cast<int>(std::min<int64_t>(wait_us / 1000 + 1, 3600 * 1000));
    struct pollfd p[3] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}, {runner->wake_fd(), POLLIN, 0}};
    int n = poll(p, 3, timeout);
    if (n < 0 && errno != EINTR) break;
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      bool stop = false;
      while (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          Config fresh;
          Status r = LoadConfig(Env::Default(), args.config, &fresh);
          if (!r.ok()) {
            log.Error("SIGHUP: keeping the old configuration: " + r.message());
          } else {
            // Work in flight finishes under the old settings.
            runner->Shutdown(kShutdownGraceMs);
            if (fresh.domain.empty()) fresh.domain = DefaultDomain(Env::Default(), host);
            runner = std::make_unique<QueueRunner>(fresh, &log, host.fqdn);
            cfg = fresh;
            runner->Scan();
            log.Info("reloaded " + args.config);
          }
        } else {
          stop = true;
        }
      }
      if (stop) break;
    }
    if (p[1].revents & POLLIN) {
      alignas(struct inotify_event) char buf[8192];
      ssize_t len;
      while ((len = read(ifd, buf, sizeof buf)) > 0) {
        for (char* q = buf; q < buf + len;) {
          auto* ev = reinterpret_cast<struct inotify_event*>(q);
          if (ev->mask & IN_Q_OVERFLOW) runner->Scan();
          else if (ev->len > 0) runner->Add(ev->name);
          q += sizeof(struct inotify_event) + ev->len;
        }
      }
    }
    if (p[2].revents & POLLIN) runner->Collect();
    if (time(nullptr) - last_scan >= kRescanSeconds) {
      runner->Scan();
      last_scan = time(nullptr);
    }
  }
  log.Info("stopping");
  runner->Shutdown(kShutdownGraceMs);
  return 0;
}

}  // namespace relay
