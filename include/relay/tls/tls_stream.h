// Stream: one TCP socket, optionally under TLS, with a deadline on every
// operation so that a stalled peer can never stall relay. Blocking calls
// on a non-blocking socket, driven by poll(). Both ends use it: the
// delivery client (Connection) and relay-smtpd's server side.
#ifndef RELAY_TLS_TLS_STREAM_H_
#define RELAY_TLS_TLS_STREAM_H_

#include <string>
#include <string_view>

#include "relay/base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace relay {

class Stream {
 public:
  // Takes fd (made non-blocking); closes it when destroyed.
  explicit Stream(int fd);
  virtual ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  bool tls() const { return ssl_ != nullptr; }
  SSL* ssl() const { return ssl_; }
  // True when the last failed call failed because its deadline passed.
  bool timed_out() const { return timed_out_; }

  Status Write(std::string_view data, int timeout_ms);
  // Reads what is available (at least one byte) and appends it to *out.
  Status Read(std::string* out, int timeout_ms);
  // The server side of a handshake, with ctx's certificate.
  Status AcceptTls(SSL_CTX* ctx, int timeout_ms);
  // True when bytes (or the peer's close) wait to be read now, without
  // waiting: between two transactions, a reply no command asked for.
  bool Readable() const;
  // Shuts the socket down, waking any blocked call (used on SIGTERM).
  void Abort();

 protected:
  Status WaitFor(short events, int timeout_ms, const char* what);
  Status TlsWait(int ret, int timeout_ms, const char* what);

  int fd_;
  SSL* ssl_ = nullptr;
  bool timed_out_ = false;
};

// The text of OpenSSL's last error (and clears its queue).
std::string OpenSslError();
// Lower-case hex of n bytes.
std::string HexBytes(const unsigned char* p, size_t n);

}  // namespace relay

#endif  // RELAY_TLS_TLS_STREAM_H_
