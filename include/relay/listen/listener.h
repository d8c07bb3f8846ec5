// The SMTP listener's edges: binding the loopback sockets (or taking them
// from systemd), finding which local user a loopback TCP client is, and
// serving one client in a child of relayd with SmtpServer + SubmitBackend.
#ifndef RELAY_LISTEN_LISTENER_H_
#define RELAY_LISTEN_LISTENER_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/base/config.h"
#include "relay/inject/inject.h"
#include "relay/base/log.h"
#include "relay/base/network.h"
#include "relay/smtp/smtp_server.h"
#include "relay/base/status.h"

namespace relay {

// A listening socket, and whether its clients start TLS with STARTTLS or
// at connect (smtps).
struct Listener {
  int fd;
  TlsMode tls;
};

// Binds every `listen` address, or, when systemd passed sockets
// (LISTEN_PID is us, LISTEN_FDS = n), takes fds 3 .. 3+n-1 instead.
Status OpenListeners(const Config& cfg, std::vector<Listener>* out);

// Pure: the TLS mode of a socket bound to `bound`: that of the `listen`
// address that is the same address and port, else listen_tls (a socket
// from systemd that `listen` does not name).
TlsMode ListenerTlsMode(const Config& cfg, const sockaddr_storage& bound);

// Pure: the uid that owns a TCP socket, from the text of /proc/net/tcp or
// /proc/net/tcp6: the line whose local address is `local` and remote is
// `remote` (the client's own view of the connection).
bool UidFromProcNetTcp(std::string_view text, const sockaddr_storage& local,
                       const sockaddr_storage& remote, uid_t* uid);

// Who a client is, by its address: a local program (loopback), a host on
// a listen_allow network (served by relay-smtpd: TLS and AUTH or a client
// certificate before MAIL), or anyone else (refused at connect). A
// loopback client of an smtps address is served by relay-smtpd too.
enum class ClientClass { kLoopback, kAllowed, kRefused };
ClientClass ClassifyClient(const Config& cfg, const sockaddr_storage& peer);

// A listener child's way into the spool: the same domain, aliases, size
// limit and free-space floor as sendmail's. received_from names the client
// in the Received header ("localhost [127.0.0.1] uid 1000"); uid is the
// submitter's, or -1. Not copyable: base points at aliases.
struct SubmitSetup {
  SubmitSetup() = default;
  SubmitSetup(const SubmitSetup&) = delete;
  Aliases aliases;
  InjectParams base;
  ServerParams server;
};
void PrepareSubmit(const Config& cfg, Env* env, const std::string& received_from, int64_t uid,
                   SubmitSetup* out);
// The log line for a committed message, as Postfix's smtpd writes it.
std::string CommitLogLine(const std::string& id, const std::string& client, const Envelope& e,
                          const std::string& extra);
// Logs a HELO/EHLO argument the session left out of Received (see
// ValidHeloArgument), if there was one.
void LogIgnoredHelo(Logger* log, const std::string& client, const SmtpServer& server);

// Serves one client on fd until QUIT, EOF, a limit or the timeout. Runs in
// a child of relayd, as the relay user. Returns an exit status.
int ServeClient(int fd, const Config& cfg, Logger* log);

}  // namespace relay

#endif  // RELAY_LISTEN_LISTENER_H_
