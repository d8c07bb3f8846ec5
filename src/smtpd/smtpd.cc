#include "relay/smtpd/smtpd.h"

#include <signal.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "relay/listen/auth_failures.h"
#include "relay/base/config.h"
#include "relay/base/credentials.h"
#include "relay/listen/listener.h"
#include "relay/base/log.h"
#include "relay/smtpd/password_file.h"
#include "relay/queue/privileges.h"
#include "relay/inject/submit.h"
#include "relay/tls/tls_server.h"
#include "relay/tls/tls_stream.h"

namespace relay {
namespace {

// A wrong password waits this long before its 535, as Postfix's
// smtpd_error_sleep_time: with max_auth_failures per session and
// listen_max_per_client sessions, guessing is slow.
constexpr unsigned kAuthFailureDelaySeconds = 1;

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "relay-smtpd: %s\n", msg.c_str());
  return code;
}

struct Session {
  const Config& cfg;
  Logger* log;
  std::string client;
  Stream* stream;
  SmtpServer* server;
  ServerTls* tls;
  int timeout_ms;
};

// The server side of a TLS handshake, after STARTTLS or, for smtps, at
// connect. The client's certificate, if accepted, authenticates it.
Status Handshake(Session& s) {
  Status st = s.stream->AcceptTls(s.tls->ctx(), s.timeout_ms);
  if (!st.ok()) return st;
  std::string info;
  std::string who = s.tls->ClientIdentity(s.stream->ssl(), &info);
  s.log->Info(s.client + ": TLS " + info);
  s.server->TlsStarted(who);
  return st;
}

// Feeds the client's bytes through the server until it ends. Returns a
// reason for the log when the session ended other than by QUIT.
std::string Serve(Session& s, bool smtps) {
  if (smtps) {
    // RFC 8314 3.3: TLS first; the greeting is the first thing said
    // under it. STARTTLS is then not offered.
    Status st = Handshake(s);
    if (!st.ok()) {
      s.server->Disconnected();
      return "TLS handshake failed: " + st.message();
    }
  }
  s.server->set_flush([&s](const std::string& out) { return s.stream->Write(out, s.timeout_ms).ok(); });
  if (!s.stream->Write(s.server->Greeting(), s.timeout_ms).ok()) return "lost connection";
  int failures = 0;
  while (!s.server->closed()) {
    std::string in;
    Status st = s.stream->Read(&in, s.timeout_ms);
    if (!st.ok()) {
      s.server->Disconnected();
      if (!s.stream->timed_out()) return "lost connection";
      s.stream->Write("421 4.4.2 timeout; closing\r\n", s.timeout_ms);
      return "timeout after " + std::to_string(s.cfg.timeout_smtpd) + "s";
    }
    std::string out = s.server->Feed(in);
    if (s.server->auth_failures() > failures) {
      // A pause per wrong password, pipelined ones included.
      unsigned pause = kAuthFailureDelaySeconds * static_cast<unsigned>(s.server->auth_failures() - failures);
      failures = s.server->auth_failures();
      s.log->Warn(s.client + ": AUTH failed for user=" + s.server->last_auth_failure());
      sleep(pause);
    }
    if (!s.stream->Write(out, s.timeout_ms).ok()) {
      s.server->Disconnected();
      return "lost connection";
    }
    if (s.server->tls_requested()) {
      st = Handshake(s);
      if (!st.ok()) {
        s.server->Disconnected();
        return "TLS handshake failed: " + st.message();
      }
    }
  }
  return "";
}

bool ParseSmtpdArgs(int argc, char** argv, std::string* config, bool* smtps) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-C" && i + 1 < argc) *config = argv[++i];
    else if (a == "--smtps") *smtps = true;
    else return false;
  }
  return true;
}

// The server's key and certificate, and the users' password file.
Status LoadServerSecrets(const Config& cfg, std::unique_ptr<ServerTls>* tls, std::unique_ptr<PasswordFile>* users) {
  Status s = CheckSecretFile(cfg.listen_tls_key_file, "listen_tls_key_file");
  if (s.ok()) s = ServerTls::Create(cfg, tls);
  if (s.ok() && !cfg.listen_auth_users.empty()) s = PasswordFile::Load(Env::Default(), cfg.listen_auth_users, users);
  return s;
}

}  // namespace

int RunSmtpd(int argc, char** argv) {
  std::string config = RELAY_DEFAULT_CONFIG;
  bool smtps = false;
  if (!ParseSmtpdArgs(argc, argv, &config, &smtps))
    return Fail("usage: relay-smtpd [-C config] [--smtps] (run by relayd, the client on fd 0)", EX_USAGE);
  Config loaded;
  Status s = LoadConfig(Env::Default(), config, &loaded);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  const Config& cfg = loaded;  // never changed after loading
  s = DropToSpoolOwner(cfg);
  if (!s.ok()) return Fail(s.message(), s.exit_code());
  signal(SIGPIPE, SIG_IGN);
  Logger log(cfg.log);

  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  if (getpeername(0, reinterpret_cast<sockaddr*>(&peer), &plen) != 0)
    return Fail("fd 0 is not a connected socket", EX_USAGE);
  // relayd classified the client already; checked again here, where the
  // decision takes effect, so that relay-smtpd on its own is no open door.
  // A loopback client of an smtps address comes here too: it gets the
  // same TLS and AUTH rules, never less.
  ClientClass cls = ClassifyClient(cfg, peer);
  if (cls != ClientClass::kAllowed && !(smtps && cls == ClientClass::kLoopback))
    return Fail("client " + AddrText(peer) + " is not on a listen_allow network", EX_NOPERM);
  // No DNS: the name would be the client's to choose.
  std::string client = "unknown[" + AddrText(peer) + "]:" + std::to_string(AddrPort(peer));
  log.Info("connect from " + client);

  Stream stream(0);
  std::unique_ptr<ServerTls> tls;
  std::unique_ptr<PasswordFile> users;
  s = LoadServerSecrets(cfg, &tls, &users);
  if (!s.ok()) {
    log.Error(s.message());
    stream.Write("421 4.3.0 service not available; closing\r\n", 1000);
    return Fail(s.message(), s.exit_code());
  }

  SubmitSetup setup;
  PrepareSubmit(cfg, Env::Default(), "unknown [" + AddrText(peer) + "]", -1, &setup);
  setup.server.offer_starttls = !smtps;
  setup.server.require_auth = true;
  setup.base.name_auth_user = cfg.listen_auth_header;
  const SmtpServer* server_view = nullptr;
  SubmitBackend backend(Env::Default(), SpoolPaths(cfg.spool_dir), setup.base, 0600,
                        [&](const std::string& id, const Envelope& e) {
                          log.Info(CommitLogLine(id, client, e, ", sasl_username=" + server_view->auth_user()));
                        });
  SmtpServer server(setup.server, &backend, users.get());
  server_view = &server;
  Session session{cfg, &log, client, &stream, &server, tls.get(), static_cast<int>(cfg.timeout_smtpd * 1000)};
  std::string why = Serve(session, smtps);
  LogIgnoredHelo(&log, client, server);
  log.Info("disconnect from " + client + (why.empty() ? "" : " (" + why + ")") +
           " messages=" + std::to_string(server.accepted()));
  // relayd counts the wrong passwords against the client's address.
  return SmtpdExitStatus(server.auth_failures());
}

}  // namespace relay
