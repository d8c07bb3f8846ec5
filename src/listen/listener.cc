#include "relay/listen/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "relay/message/aliases.h"
#include "relay/base/host.h"
#include "relay/smtp/smtp_server.h"
#include "relay/base/strings.h"
#include "relay/inject/params.h"
#include "relay/inject/submit.h"

namespace relay {
namespace {

// /proc/net/tcp prints an IPv4 address as the 32-bit value in host order,
// and an IPv6 one as four such words; the port as 4 hex digits.
std::string ProcAddr(const sockaddr_storage& a) {
  char buf[64];
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    std::snprintf(buf, sizeof buf, "%08X:%04X", in->sin_addr.s_addr, ntohs(in->sin_port));
    return buf;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
  uint32_t w[4];
  std::memcpy(w, &in6->sin6_addr, 16);
  std::snprintf(buf, sizeof buf, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3], ntohs(in6->sin6_port));
  return buf;
}

int Bind(const std::string& spec, bool remote_allowed, std::string* err) {
  sockaddr_storage ss;
  socklen_t len;
  // LoadConfig checked this; checked again where it matters.
  if (!ParseSocketAddress(spec, &ss, &len) || (!IsLoopback(ss) && !remote_allowed)) {
    *err = "listen address " + spec + " is not a numeric loopback address (see listen_allow)";
    return -1;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd >= 0 && ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 64) != 0) {
    *err = "cannot listen on " + spec + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TlsMode ListenerTlsMode(const Config& cfg, const sockaddr_storage& bound) {
  for (const ListenAddress& la : cfg.listen) {
    sockaddr_storage ss;
    socklen_t len;
    if (ParseSocketAddress(la.address, &ss, &len) && ss.ss_family == bound.ss_family &&
        AddrText(ss) == AddrText(bound) && AddrPort(ss) == AddrPort(bound))
      return la.tls;
  }
  return cfg.listen_tls;
}

Status OpenListeners(const Config& cfg, std::vector<Listener>* out) {
  const char* pid = getenv("LISTEN_PID");
  const char* n = getenv("LISTEN_FDS");
  if (pid && n && std::atoi(pid) == getpid()) {
    for (int i = 0; i < std::atoi(n); ++i) {
      int fd = 3 + i;
      // systemd's sockets: non-blocking (accept loops until EAGAIN), not
      // inherited by relay-deliver, and loopback like our own unless
      // listen_allow says who else may connect.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
          (!IsLoopback(ss) && cfg.listen_allow.empty()))
        return Status::Config("a socket passed by systemd is not on a loopback address, and listen_allow is not set");
      out->push_back({fd, ListenerTlsMode(cfg, ss)});
    }
    return Status::Ok();
  }
  for (const ListenAddress& la : cfg.listen) {
    std::string err;
    int fd = Bind(la.address, !cfg.listen_allow.empty(), &err);
    if (fd < 0) return Status::TempFail(err);
    out->push_back({fd, la.tls});
  }
  return Status::Ok();
}

ClientClass ClassifyClient(const Config& cfg, const sockaddr_storage& peer) {
  if (IsLoopback(peer)) return ClientClass::kLoopback;
  for (const Network& n : cfg.listen_allow)
    if (NetworkContains(n, peer)) return ClientClass::kAllowed;
  return ClientClass::kRefused;
}

bool UidFromProcNetTcp(std::string_view text, const sockaddr_storage& local,
                       const sockaddr_storage& remote, uid_t* uid) {
  std::string l = ProcAddr(local), r = ProcAddr(remote);
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f;
    for (std::string_view w : Split(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() < 8 || f[1] != l || f[2] != r) continue;
    *uid = static_cast<uid_t>(std::strtoul(std::string(f[7]).c_str(), nullptr, 10));
    return true;
  }
  return false;
}

void PrepareSubmit(const Config& cfg, Env* env, const std::string& received_from, int64_t uid,
                   SubmitSetup* out) {
  InjectParams& base = out->base;
  BaseInjectParams(env, cfg, &out->aliases, &base);  // aliases unreadable: none
  base.submitter = {uid, "", ""};
  base.received_from = received_from;
  out->server.hostname = base.hostname;
  out->server.size_limit = cfg.message_size_limit;
  out->server.local = base.local;  // addresses too long once qualified: refused at RCPT
}

void LogIgnoredHelo(Logger* log, const std::string& client, const SmtpServer& server) {
  if (!server.ignored_helo().empty())
    log->Warn(client + ": HELO/EHLO argument '" + server.ignored_helo() +
              "' is not a domain or address literal; left out of the Received header");
}

std::string CommitLogLine(const std::string& id, const std::string& client, const Envelope& e,
                          const std::string& extra) {
  return id + ": client=" + client + extra + ", from=<" + Printable(e.sender) +
         ">, nrcpt=" + std::to_string(e.recipients.size());
}

int ServeClient(int fd, const Config& cfg, Logger* log) {
  sockaddr_storage peer{}, self{};
  socklen_t plen = sizeof peer, slen = sizeof self;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
  getsockname(fd, reinterpret_cast<sockaddr*>(&self), &slen);
  std::string client = "localhost[" + AddrText(peer) + "]:" + std::to_string(AddrPort(peer));
  // Which local user connected: the client's socket, seen from its side.
  std::string uid_text;
  std::string tcp;
  uid_t uid;
  Env* env = Env::Default();
  if (env->ReadFile(peer.ss_family == AF_INET6 ? "/proc/net/tcp6" : "/proc/net/tcp", &tcp, nullptr).ok() &&
      UidFromProcNetTcp(tcp, peer, self, &uid))
    uid_text = std::to_string(uid);
  std::string who = uid_text.empty() ? "" : ", uid=" + uid_text;
  log->Info("connect from " + client + who);

  SubmitSetup setup;
  PrepareSubmit(cfg, env, "localhost [" + AddrText(peer) + "]" + (uid_text.empty() ? "" : " uid " + uid_text),
                uid_text.empty() ? -1 : static_cast<int64_t>(uid), &setup);
  SubmitBackend backend(env, SpoolPaths(cfg.spool_dir), setup.base, 0600,
                        [&](const std::string& id, const Envelope& e) {
                          log->Info(CommitLogLine(id, client, e, who));
                        });
  SmtpServer server(setup.server, &backend);
  bool timed_out = false;
  ServeSmtp(fd, fd, &server, static_cast<int>(cfg.timeout_smtpd * 1000), &timed_out);
  if (timed_out) log->Info("timeout after " + std::to_string(cfg.timeout_smtpd) + "s from " + client);
  LogIgnoredHelo(log, client, server);
  log->Info("disconnect from " + client + " messages=" + std::to_string(server.accepted()));
  close(fd);
  return 0;
}

}  // namespace relay
