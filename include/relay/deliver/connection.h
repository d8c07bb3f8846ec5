// Connection: one TCP connection to the smarthost, optionally under TLS,
// with a deadline on every operation so that a stalled server can never
// stall relayd. Blocking calls on a non-blocking socket, driven by poll().
#ifndef RELAY_DELIVER_CONNECTION_H_
#define RELAY_DELIVER_CONNECTION_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/status.h"
#include "relay/tls/tls_stream.h"

namespace relay {

class WireFormCheck;

// May credentials go to smarthost h over a connection without TLS?
// Only with auth_without_tls = yes, to a loopback address (loopback, as
// the connection found it), on a port below 1024: binding such a port
// takes root (or CAP_NET_BIND_SERVICE), so no local user can stand in for
// the smarthost. A port of 1024 or above (a stunnel or ssh tunnel) is
// refused: any local user who binds it first would get the password.
// *why says why not when auth_without_tls is set but refused here.
bool AuthWithoutTlsAllowed(bool auth_without_tls, const Smarthost& h, bool loopback, std::string* why);

// The client TLS settings: one SSL_CTX with the trust store loaded. It is
// costly (the system CA bundle is several MB), so relayd creates it when
// a delivery run needs it and drops it when the queue is idle.
class TlsContext {
 public:
  ~TlsContext();
  static Status Create(const Config& cfg, std::unique_ptr<TlsContext>* out);
  SSL_CTX* ctx() const { return ctx_; }
  const std::vector<std::string>& pins() const { return pins_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  std::vector<std::string> pins_;
};

class Connection : public Stream {
 public:
  // Connects to host:port (every address getaddrinfo gives, in order, until
  // one answers). *peer is set to "host[address]:port" for logs.
  static Status Open(const std::string& host, uint16_t port, int timeout_ms,
                     std::unique_ptr<Connection>* out, std::string* peer);

  // Runs the TLS handshake and verifies the certificate chain and the host
  // name (or a pinned fingerprint). *info describes the session for logs.
  Status StartTls(TlsContext* tls, const std::string& host, int timeout_ms, std::string* info);
  // TLS channel binding data for SASL (RFC 5929, RFC 9266):
  // "tls-exporter" under TLS 1.3, "tls-unique" before it. False without TLS.
  bool ChannelBinding(std::string* name, std::string* data) const;
  // The peer is 127.0.0.0/8 or ::1.
  bool loopback() const { return loopback_; }

  // Writes len bytes of fd from offset (the queue file's content). With
  // check, each piece is checked before it is written: a DataErr (nothing
  // more written) when the content is not in wire form.
  Status WriteFile(int fd, off_t offset, uint64_t len, int block_timeout_ms,
                   WireFormCheck* check = nullptr);

 private:
  explicit Connection(int fd) : Stream(fd) {}

  bool loopback_ = false;
};

}  // namespace relay

#endif  // RELAY_DELIVER_CONNECTION_H_
