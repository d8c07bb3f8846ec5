#include "relay/deliver/deliver.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <algorithm>
#include <string>

#include "relay/base/config.h"
#include "relay/base/credentials.h"
#include "relay/base/env.h"
#include "relay/base/host.h"
#include "relay/base/log.h"
#include "relay/queue/privileges.h"
#include "relay/deliver/provider_limits.h"
#include "relay/deliver/runner.h"
#include "relay/deliver/sender_rewrite.h"
#include "relay/deliver/smarthost_client.h"
#include "relay/queue/run_status.h"
#include "relay/queue/spool.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {
namespace {

// How long SIGTERM waits for transactions in flight before abandoning them.
constexpr int kShutdownGraceMs = 3000;

struct Args {
  std::string config = RELAY_DEFAULT_CONFIG;
  bool flush = false;
  bool report = false;
  bool verbose = false;
  bool probe = false;  // --probe: does a smarthost answer? (no MAIL)
  SmarthostPause pause;  // carried over by relayd between runs
};

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "relay-deliver: %s\n", msg.c_str());
  return code;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-C" && i + 1 < argc) a->config = argv[++i];
    else if (s == "--once") continue;
    else if (s == "--flush" || s == "-q") a->flush = true;
    else if (s == "--report") a->report = true;
    else if (s == "--probe") a->probe = true;
    else if (s == SmarthostPause::kFlag && i + 2 < argc) {
      if (!SmarthostPause::FromArgs(argv[i + 1], argv[i + 2], &a->pause)) {
        *err = std::string("bad ") + SmarthostPause::kFlag + " " + argv[i + 1] + " " + argv[i + 2];
        return false;
      }
      i += 2;
    }
    else if (s == "-v") a->verbose = true;
    else {
      *err = "usage: relay-deliver [-C FILE] [-v] [--once] [--flush] [--report] [--probe]";
      return false;
    }
  }
  return true;
}

// One delivery run: every due entry (all with flush), in up to three
// rounds so that bounces queued by a round go out too. SIGTERM and SIGINT
// end it within the grace period: transactions in flight are finished or
// abandoned, and nothing the server did not accept is marked done.
// With report, the earliest next due time goes to stdout for relayd.
int RunOnce(QueueRunner* runner, bool flush, bool report) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  bool stop = false;
  for (int round = 0; round < 3 && !stop; ++round) {
    size_t before = runner->size();
    bool flushed = runner->Scan();  // a .flush seen now is acted on now
    if (flush && round == 0) runner->FlushAll();
    if (round > 0 && runner->size() == before && !flushed) break;
    runner->Dispatch();
    while (!runner->Idle()) {
      struct pollfd p[2] = {{runner->wake_fd(), POLLIN, 0}, {sfd, POLLIN, 0}};
      poll(p, 2, 1000);
      if (p[1].revents & POLLIN) {
        stop = true;
        break;
      }
      runner->Collect();
      // An entry whose progress cannot be written keeps this run going;
      // mail queued meanwhile must not wait for it, and relayd starts no
      // other run until this one ends.
      if (runner->unsaved() > 0 && runner->Scan()) runner->FlushAll();
      runner->Dispatch();
    }
  }
  runner->Shutdown(stop ? kShutdownGraceMs : 0);
  runner->WriteStatus();
  if (report) {
    int64_t wait = runner->MicrosUntilDue();
    RunReport r;
    r.next = wait < 0 ? -1 : Env::Default()->NowMicros() + wait;
    r.pause = {runner->site_failures(), runner->site_down_until()};
    r.sent = runner->sent();
    std::fputs(r.Encode().c_str(), stdout);
    std::fflush(stdout);
  }
  if (sfd >= 0) close(sfd);
  return 0;
}

// --probe, for relayd's heartbeat: brings a session up with the
// smarthosts in order, exactly as a delivery would (connect, TLS, EHLO,
// AUTH: SmarthostClient), then QUIT, with no MAIL. 0 when one answered;
// EX_UNAVAILABLE, with one line naming each failure, when none did. It
// touches no queue file and takes no lock: it may run beside a delivery.
int Probe(const Config& cfg) {
  if (cfg.smarthosts.empty()) return Fail("--probe: no smarthost is configured", EX_CONFIG);
  HostNames host = GetHostNames(Env::Default());
  SmarthostClient::Observer quiet;  // nothing of the session is shown
  SmarthostClient client(cfg, cfg.helo_name.empty() ? host.fqdn : cfg.helo_name, nullptr, &quiet);
  std::string errors;
  for (const Smarthost& h : cfg.smarthosts) {
    SmarthostClient::Step step;
    Status s = client.Open(h, &step);
    if (s.ok()) {
      client.Close();
      return 0;
    }
    errors += (errors.empty() ? "" : "; ") + HostKey(h) + ": " + s.message();
  }
  return Fail("--probe: no smarthost answered: " + errors, EX_UNAVAILABLE);
}

}  // namespace

int RunDeliver(int argc, char** argv) {
  Args args;
  std::string err;
  if (!ParseArgs(argc, argv, &args, &err)) return Fail(err, EX_USAGE);
  Config loaded;
  Status s = LoadConfig(Env::Default(), args.config, &loaded);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  const Config& cfg = loaded;  // never changed after loading
  s = DropToSpoolOwner(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  // With OAuth the run holds refresh tokens: no core dump, and no other
  // process of the relay user may read its memory (ptrace, /proc/PID/mem).
  if (cfg.oauth()) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // A secret others can read is refused, naming the mode to set.
  s = CheckConfiguredSecret(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  signal(SIGPIPE, SIG_IGN);
  if (args.probe) return Probe(cfg);
  // One delivery run at a time per spool (a run started by hand waits for
  // the daemon's, and the other way round): two runs would send the same
  // message twice. The lock goes with the process, however it ends.
  std::string lock = SpoolPaths(cfg.spool_dir).deliver_lock();
  int lfd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0 || flock(lfd, LOCK_EX) != 0)
    return Fail("cannot lock " + lock + ": " + std::strerror(errno), EX_TEMPFAIL);
  Logger log(!args.report && cfg.log == "syslog" && args.verbose ? "stderr" : cfg.log, args.verbose);
  HostNames host = GetHostNames(Env::Default());
  std::string domain = MailDomain(Env::Default(), cfg.domain, host);
  SenderPolicy sender;
  std::vector<QuotaPattern> quota;
  s = LoadProviderPolicy(cfg, domain, host.fqdn, &sender, &quota);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  QueueRunner runner(cfg, &log, host.fqdn, domain);
  runner.SetProviderPolicy(std::move(sender), std::move(quota));
  if (!args.flush) runner.SetSiteFailures(args.pause.failures, args.pause.until);
  return RunOnce(&runner, args.flush, args.report);
}

}  // namespace relay
