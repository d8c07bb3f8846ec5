#include "relay/inject/sendmail.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "relay/message/address.h"
#include "relay/message/aliases.h"
#include "relay/inject/args.h"
#include "relay/inject/drop.h"
#include "relay/base/config.h"
#include "relay/base/host.h"
#include "relay/inject/inject.h"
#include "relay/inject/params.h"
#include "relay/base/log.h"
#include "relay/queue/mailq.h"
#include "relay/queue/queue_id.h"
#include "relay/queue/spool.h"
#include "relay/smtp/smtp_server.h"
#include "relay/base/strings.h"
#include "relay/inject/submit.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {
namespace {

std::string g_program = "sendmail";

// The account relayd.service runs as (User=relay), created by the
// package and by scripts/install-spool.
constexpr char kRelayUser[] = "relay";

// The temporary file the signal handler removes. Set before the file is
// created, cleared once it has been committed under its final name.
char g_temp_path[4096];

// The setgid sendmail's privileged part (inject/drop.h): its socket and
// process id, or -1 when this process writes the spool itself (root, a
// private instance).
int g_drop_fd = -1;
pid_t g_drop_pid = -1;

void OnFatalSignal(int) {
  // Only async-signal-safe calls: remove the partial file, and report a
  // temporary failure so the caller keeps its copy of the message. The
  // privileged part removes its own once it sees the end of its socket;
  // we wait for that, so that nothing is left behind when we are gone.
  if (g_drop_fd >= 0) {
    close(g_drop_fd);
    waitpid(g_drop_pid, nullptr, 0);
  } else if (g_temp_path[0] != '\0') {
    unlink(g_temp_path);
  }
  _exit(EX_TEMPFAIL);
}

int Report(const Status& s) {
  if (s.ok()) return 0;
  std::string line = g_program + ": " + s.message() + "\n";
  ssize_t ignored = write(2, line.data(), line.size());
  (void)ignored;
  return s.exit_code();
}

// fds 0-2 closed by the caller would otherwise be reused by our own files,
// and a later write to "stderr" could land in a queue file.
// For a setgid program glibc has already done this, but it puts a closed
// fd 0 on /dev/full, write-only, so that reading it fails (EBADF, exit 75).
// That one is taken for what it is, a closed standard input, and reopened
// on /dev/null as for everyone else: an empty message, as sendmail(8) says.
bool IsGlibcClosedStdin() {
  struct stat st;
  int fl = fcntl(0, F_GETFL);
  return fl != -1 && (fl & O_ACCMODE) == O_WRONLY && fstat(0, &st) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == makedev(1, 7);  // /dev/full
}

void ReopenStandardFds() {
  if (IsGlibcClosedStdin()) {
    int n = open("/dev/null", O_RDONLY);
    if (n < 0 || dup2(n, 0) != 0) _exit(EX_OSERR);
    close(n);
  }
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (n != fd) _exit(EX_OSERR);
    }
  }
}

bool SafeTz(const char* tz) {
  // A TZ naming a file could make a setgid process read any file it can;
  // zone names and POSIX TZ strings need neither '/' nor "..".
  if (!tz || std::strlen(tz) > 64) return false;
  return std::strchr(tz, '/') == nullptr && std::strstr(tz, "..") == nullptr;
}

struct Process {
  bool privileged = false;  // setgid (or setuid) to the spool group
  std::string name_env;     // NAME, read before the environment is cleared
  Status split;             // the split of the privileged part failed
};

// As sendmail 8 does: a caller who is not root and names its own config
// gives up the spool group first, so -C can only reach what the caller
// could reach anyway (a private instance).
Status DropPrivileges() {
  gid_t g = getgid();
  uid_t u = getuid();
  if (setresgid(g, g, g) != 0 || setresuid(u, u, u) != 0)
    return Status::Software(std::string("cannot drop privileges: ") + std::strerror(errno));
  return Status::Ok();
}

// The spool group is never held by the code that follows: a setgid
// sendmail run by anyone but root leaves it to a child that runs
// src/inject/drop.cc alone (see the SECURITY section of sendmail(8));
// root needs no group, and gives it up.
Status SplitPrivileges() {
  if (getuid() == 0) return DropPrivileges();
  if (SplitOffDropper(RELAY_DEFAULT_CONFIG, &g_drop_fd, &g_drop_pid)) return Status::Ok();
  Status s = Status::FromErrno(errno, "cannot start sendmail's privileged part");
  DropPrivileges();
  return s;
}

// The privileged part is not needed (every mode but queueing): it ends.
void EndPrivilegedPart() {
  if (g_drop_fd < 0) return;
  close(g_drop_fd);
  g_drop_fd = -1;
  waitpid(g_drop_pid, nullptr, 0);
}

// Hardens the process before anything else is parsed.
Process GuardProcess() {
  Process p;
  ReopenStandardFds();
  // A tiny RLIMIT_FSIZE must give a write error (EFBIG), not kill us
  // between creating and removing the temporary file.
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  p.privileged = getegid() != getgid() || geteuid() != getuid();
  if (p.privileged) p.split = SplitPrivileges();
  if (const char* n = getenv("NAME")) p.name_env = n;
  if (p.privileged) {
    std::string tz = SafeTz(getenv("TZ")) ? getenv("TZ") : "";
    clearenv();
    setenv("PATH", "/usr/bin:/bin", 1);
    if (!tz.empty()) setenv("TZ", tz.c_str(), 1);
  }
  return p;
}

long LocalOffset(time_t t) {
  struct tm tm;
  localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

Submitter GetSubmitter(const Process& proc) {
  Submitter s;
  s.uid = getuid();
  struct passwd* pw = getpwuid(getuid());
  s.login = pw ? pw->pw_name : "uid" + std::to_string(s.uid);
  if (!proc.name_env.empty()) s.full_name = proc.name_env;
  else if (pw && pw->pw_gecos) s.full_name = FullNameFromGecos(pw->pw_gecos, s.login);
  return s;
}



int NewAliases(const Config& cfg) {
  Aliases aliases;
  std::vector<AliasProblem> problems;
  Status s = LoadAliasesFile(Env::Default(), cfg.aliases, &aliases, &problems);
  if (!s.ok()) return Report(Status::Config(s.message()));
  for (const AliasProblem& p : problems)
    Report(Status::Config(cfg.aliases + ":" + std::to_string(p.line) + ": " + p.message));
  return problems.empty() ? 0 : EX_CONFIG;
}

int ListQueue(const Config& cfg) {
  std::vector<QueueListItem> items;
  Status s = ReadQueueListing(SpoolPaths(cfg.spool_dir), &items);
  if (!s.ok()) {
    if (s.message().find("No such file") != std::string::npos) {
      items.clear();
    } else if (s.message().find("Permission denied") != std::string::npos) {
      return Report(Status::NoPerm("cannot read the queue in " + cfg.spool_dir +
                                   ": only root and the relay user may list it"));
    } else {
      return Report(s);
    }
  }
  std::string out = FormatQueueListing(items, LocalOffset(time(nullptr)));
  fwrite(out.data(), 1, out.size(), stdout);
  return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

int Verify(const Options& opts, const Config& cfg) {
  std::vector<std::string> addrs;
  Status s = ArgumentRecipients(opts, &addrs);
  if (s.ok() && addrs.empty()) s = Status::Usage("no recipients given");
  if (!s.ok()) return Report(s);
  Aliases aliases;
  InjectParams p;
  s = BaseInjectParams(Env::Default(), cfg, &aliases, &p);
  if (!s.ok()) return Report(s);
  for (const std::string& a : addrs) {
    std::string line = a + " ->";
    for (const Recipient& r : ExpandRecipients({a}, &aliases, p.local)) line += " " + r.address;
    std::printf("%s\n", Printable(line).c_str());
  }
  return 0;
}

// The queue file's mode: private to its owner when the spool is ours (a
// private instance); readable by "other" when the spool belongs to the
// relay user, who is not in the spool group, while the spool directories
// keep everyone else out. See the SECURITY section of sendmail(8).
mode_t QueueFileMode(const SpoolPaths& paths) {
  struct stat st;
  if (stat(paths.queue().c_str(), &st) == 0 && st.st_uid != geteuid()) return 0604;
  return 0600;
}

// Reads into buf until it is full or the input ends; *end says which.
Status ReadUpTo(char* buf, size_t size, size_t* got, bool* end) {
  *got = 0;
  *end = false;
  while (*got < size) {
    ssize_t n = read(0, buf + *got, size - *got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read standard input");
    }
    if (n == 0) {
      *end = true;
      break;
    }
    *got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status ReadInput(Injector* inj) {
  char buf[65536];
  // The first 64 KiB are read before any is fed: a message that ends
  // within them (most do) is known whole before a byte is written, and the
  // injector can skip its space reservation (Injector::WholeInputFollows).
  // Waiting for them costs nothing: the input is read to its end anyway.
  size_t got = 0;
  bool end = false;
  Status s = ReadUpTo(buf, sizeof buf, &got, &end);
  if (!s.ok()) return s;
  if (end) inj->WholeInputFollows();
  bool wanted = got == 0 || inj->Feed(std::string_view(buf, got));
  while (!end) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read standard input");
    }
    if (n == 0) break;
    // After the lone "." the rest is read and dropped, so that the writer
    // does not die of SIGPIPE.
    if (wanted) wanted = inj->Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  return Status::Ok();
}

void InstallSignalHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnFatalSignal;
  sigfillset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

void MaskSignals(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  sigprocmask(how, &set, nullptr);
}

void BlockSignals() { MaskSignals(SIG_BLOCK); }
void UnblockSignals() { MaskSignals(SIG_UNBLOCK); }

void SetTempPath(const std::string& path) {
  std::snprintf(g_temp_path, sizeof g_temp_path, "%s", path.c_str());
}

// sendmail -bs: keeps g_temp_path naming the temporary file of the message
// being received, so that a fatal signal removes it at once, as for a
// piped message. g_temp_path changes only while the signals are blocked,
// so the handler never sees a file that is not there yet, nor one already
// committed: a signal during the commit waits for it to finish, and a
// committed message is never removed.
class SignalSafeBackend : public ServerBackend {
 public:
  explicit SignalSafeBackend(SubmitBackend* inner) : inner_(inner) {}
  Status Begin(const MailTransaction& t) override {
    BlockSignals();
    Status s = inner_->Begin(t);
    SetTempPath(inner_->temp_path());
    UnblockSignals();
    return s;
  }
  Status Data(std::string_view piece) override { return inner_->Data(piece); }
  Status End(std::string* queue_id) override {
    BlockSignals();
    Status s = inner_->End(queue_id);
    SetTempPath(inner_->temp_path());
    UnblockSignals();
    return s;
  }
  void Abort() override {
    BlockSignals();
    inner_->Abort();
    SetTempPath(inner_->temp_path());
    UnblockSignals();
  }

 private:
  SubmitBackend* inner_;
};

// Only the user of a private instance (not root, not setgid) gets the
// spool's directories made here: 0700 and owned by that user, who runs
// relayd for it. Root never creates one: it would belong to root, which
// relayd refuses, and mail would sit there forever. The installed spool is
// scripts/install-spool's job or the package's. Either way the spool is
// then checked to be one a queue runner reads.
Status PrepareSpool(const Process& proc, const SpoolPaths& paths) {
  if (!proc.privileged && getuid() != 0 && geteuid() != 0) {
    Status s = CreatePrivateSpool(Env::Default(), paths);
    if (!s.ok()) return s;
  }
  Status s = CheckSpoolForInjection(paths);
  if (!s.ok()) return s;
  // The installed spool (the default path, with the relay account that
  // the package and install-spool create) must be that account's: its
  // systemd unit runs relayd as User=relay. Private instances, which name
  // their own spool_dir, belong to whoever runs their relayd.
  if (paths.root != Config().spool_dir) return s;
  struct passwd* pw = getpwnam(kRelayUser);
  if (!pw) return s;
  return CheckSpoolOwner(paths, pw->pw_uid, kRelayUser);
}

// -t elements that gave no recipient go to relay's log, not to standard
// error: the message was queued (exit 0), and the callers that use -t
// (cron, PHP, daemons) show neither. A log file this process may not
// write, or one not there yet, gives way to syslog (the setgid injector
// is not the relay user, and creates no file outside the spool).
void LogSkipped(const Config& cfg, const std::string& id, const std::vector<SkippedRecipient>& skipped) {
  if (skipped.empty()) return;
  std::string target = cfg.log;
  if (target != "syslog" && target != "stderr") {
    int fd = open(target.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) target = "syslog";
    else close(fd);
  }
  Logger log(target, false, "sendmail");
  // A header of thousands of bad elements must not flood the log.
  constexpr size_t kMaxLines = 20;
  for (size_t i = 0; i < skipped.size() && i < kMaxLines; ++i) log.Warn(id + ": " + skipped[i].Describe());
  if (skipped.size() > kMaxLines)
    log.Warn(id + ": -t: and " + std::to_string(skipped.size() - kMaxLines) + " more elements skipped");
}

// What every message injected by this process shares: domain, host,
// submitter, limits, aliases. Per-message fields are filled by the caller.
Status MakeBaseParams(const Process& proc, const Options& opts, const Config& cfg,
                      Aliases* aliases, InjectParams* p) {
  Env* env = Env::Default();
  Status s = BaseInjectParams(env, cfg, aliases, p);
  if (!s.ok()) return s.Prefixed("cannot read aliases");
  p->opts = opts;
  p->submitter = GetSubmitter(proc);
  p->now_micros = env->NowMicros();
  p->gmtoff = LocalOffset(static_cast<time_t>(p->now_micros / 1000000));
  return Status::Ok();
}

// Where a message goes: through the privileged part when there is one.
std::unique_ptr<MessageSink> NewSink(Env* env, const SpoolPaths& paths) {
  if (g_drop_fd >= 0) return std::make_unique<DropClient>(g_drop_fd, paths);
  return std::make_unique<QueueWriter>(env, paths);
}

int Deliver(const Process& proc, const Options& opts, const Config& cfg) {
  Env* env = Env::Default();
  InjectParams p;
  Aliases aliases;
  Status s = MakeBaseParams(proc, opts, cfg, &aliases, &p);
  if (!s.ok()) return Report(s);
  p.queue_id = NewQueueId(p.now_micros);
  // Message-ID = queue ID (unique here) + random bits (unique across hosts
  // that share a domain).
  p.msgid_nonce = MakeQueueId(0, QueueIdSalt() ^ static_cast<uint32_t>(p.now_micros)).substr(13) +
                  MakeQueueId(0, QueueIdSalt()).substr(16);

  SpoolPaths paths(cfg.spool_dir);
  s = PrepareSpool(proc, paths);
  if (!s.ok()) return Report(s.Prefixed("cannot queue message"));
  std::unique_ptr<MessageSink> writer = NewSink(env, paths);
  std::string id = p.queue_id;
  Injector inj(std::move(p), writer.get());
  s = inj.Start();
  if (!s.ok()) return Report(s);

  std::snprintf(g_temp_path, sizeof g_temp_path, "%s/%s", paths.tmp().c_str(), id.c_str());
  InstallSignalHandlers();
  bool exists = false;
  s = writer->Begin(id, QueueFileMode(paths), &exists);
  if (!s.ok()) {
    g_temp_path[0] = '\0';
    return Report(s.Prefixed("cannot queue message"));
  }
  s = ReadInput(&inj);
  Status fin = inj.Finish();
  if (s.ok()) s = fin;
  if (!s.ok()) {
    writer->Abort();
    return Report(s.temporary() ? s.Prefixed("cannot queue message") : s);
  }
  // From here to exit a signal must not leave us half done: the entry is
  // either committed (exit 0) or removed (exit 75) by Commit itself.
  BlockSignals();
  s = writer->Commit();
  g_temp_path[0] = '\0';
  if (s.ok()) LogSkipped(cfg, id, inj.skipped());
  return Report(s.Prefixed("cannot queue message"));
}

// sendmail -q. The setgid injector never delivers and never reads the
// smarthost credentials: an ordinary user's request is a trigger file that
// the running relayd sees through inotify. Root, or the user of a private
// instance, runs the flush in the foreground through relayd (which, when
// started as root, becomes the spool's owner first).
int Flush(const Options& opts, const Config& cfg, const std::string& config_path) {
  if (g_drop_fd >= 0) return Report(DropFlushTrigger(g_drop_fd, SpoolPaths(cfg.spool_dir)));
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string relayd = "/usr/sbin/relayd";
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    relayd = dir.substr(0, dir.rfind('/')) + "/relayd";
  }
  std::vector<const char*> argv = {"relayd", "-C", config_path.c_str(), "--flush"};
  if (opts.verbose) argv.push_back("-v");
  argv.push_back(nullptr);
  execv(relayd.c_str(), const_cast<char* const*>(argv.data()));
  return Report(Status::Unavailable("cannot run " + relayd + ": " + std::strerror(errno)));
}

// sendmail -bs: the SMTP dialogue on standard input and output, each
// message stored like a piped one, the submitter taken from the process.
// Of the command line, -N and -odq apply (see SubmissionOptions). A fatal
// signal ends the session with EX_TEMPFAIL and removes the partial file
// of an unacknowledged message; committed ones stay.
int SmtpOnStdio(const Process& proc, const Options& opts, const Config& cfg) {
  Env* env = Env::Default();
  InjectParams base;
  Aliases aliases;
  Status s = MakeBaseParams(proc, opts, cfg, &aliases, &base);
  if (!s.ok()) return Report(s);
  SpoolPaths paths(cfg.spool_dir);
  s = PrepareSpool(proc, paths);
  if (!s.ok()) return Report(s.Prefixed("cannot queue message"));
  SubmitBackend submit(env, paths, base, QueueFileMode(paths));
  if (g_drop_fd >= 0) submit.set_sink_factory([env, paths] { return NewSink(env, paths); });
  SignalSafeBackend backend(&submit);
  g_temp_path[0] = '\0';
  InstallSignalHandlers();
  ServerParams sp;
  sp.hostname = base.hostname;
  sp.size_limit = cfg.message_size_limit;
  sp.local = base.local;  // addresses too long once qualified: refused at RCPT
  SmtpServer server(sp, &backend);
  bool timed_out = false;
  ServeSmtp(0, 1, &server, -1, &timed_out);
  return 0;
}

std::string BaseName(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

}  // namespace

int RunSendmail(int argc, char** argv) {
  Process proc = GuardProcess();
  if (!proc.split.ok()) return Report(proc.split);
  if (argc > 0 && argv[0]) {
    std::string base = BaseName(argv[0]);
    if (base == "mailq" || base == "newaliases") g_program = base;
  }
  std::vector<std::string> args(argv, argv + argc);
  if (args.empty()) args.push_back("sendmail");
  Options opts;
  Status s = ParseArgs(args, &opts);
  if (!s.ok()) return Report(s);
  for (const std::string& w : opts.warnings) Report(Status::Usage("warning: " + w));

  // The spool group is for adding messages and nothing else: every other
  // mode (and -C from anyone but root) runs with the caller's own rights.
  // mailq then lists the queue only for root and the relay user, who can
  // read it anyway; the group itself cannot read any queue file.
  bool keep_group = (opts.mode == Mode::kDeliver || opts.mode == Mode::kFlush ||
                     opts.mode == Mode::kSmtp) &&
                    (!opts.config_path || getuid() == 0);
  if (proc.privileged && !keep_group) {
    EndPrivilegedPart();
    s = DropPrivileges();
    if (!s.ok()) return Report(s);
    proc.privileged = false;
  }
  std::string config_path = opts.config_path ? *opts.config_path : RELAY_DEFAULT_CONFIG;
  Config cfg;
  // Only the default file may be missing (the defaults then apply).
  s = LoadConfig(Env::Default(), config_path, &cfg, opts.config_path.has_value());
  if (!s.ok()) return Report(s);

  switch (opts.mode) {
    case Mode::kNoop: return 0;
    case Mode::kSmtp: return SmtpOnStdio(proc, opts, cfg);
    case Mode::kFlush: return Flush(opts, cfg, config_path);
    case Mode::kNewAliases: return NewAliases(cfg);
    case Mode::kListQueue: return ListQueue(cfg);
    case Mode::kVerify: return Verify(opts, cfg);
    case Mode::kDeliver: break;
  }
  return Deliver(proc, opts, cfg);
}

}  // namespace relay
