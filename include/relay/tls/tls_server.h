// ServerTls: relay-smtpd's side of TLS: its own certificate, and which
// client certificates authenticate a client (as Postfix's
// permit_tls_clientcerts): one signed by listen_client_ca, or one whose
// SHA-256 fingerprint is a listen_client_fingerprint. The handshake never
// fails over a client certificate; an unaccepted one just authenticates
// nobody, and the client can still use AUTH.
#ifndef RELAY_TLS_TLS_SERVER_H_
#define RELAY_TLS_TLS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace relay {

class ServerTls {
 public:
  ~ServerTls();
  static Status Create(const Config& cfg, std::unique_ptr<ServerTls>* out);
  SSL_CTX* ctx() const { return ctx_; }

  // After the handshake: the accepted client certificate's name (its CN,
  // else its fingerprint), or "" when it sent none or it is not accepted.
  // *info describes the session for the log.
  std::string ClientIdentity(SSL* ssl, std::string* info) const;

 private:
  SSL_CTX* ctx_ = nullptr;
  bool have_ca_ = false;
  std::vector<std::string> pins_;
};

}  // namespace relay

#endif  // RELAY_TLS_TLS_SERVER_H_
