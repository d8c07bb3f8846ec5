#include "relay/deliver/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/deliver/resolver.h"
#include "relay/base/strings.h"
#include "relay/message/wire_form.h"
#include "relay/tls/openssl_loader.h"

namespace relay {
namespace {

Status Temp(std::string msg) { return Status::TempFail(std::move(msg)); }

bool IsIpLiteral(const std::string& host) {
  SockAddr ignored;
  return AddressLiteral(host, 0, &ignored);
}

}  // namespace

bool AuthWithoutTlsAllowed(bool auth_without_tls, const Smarthost& h, bool loopback, std::string* why) {
  why->clear();
  if (!auth_without_tls || h.tls != TlsMode::kNone) return false;
  std::string where = h.host + ":" + std::to_string(h.effective_port());
  if (!loopback) {
    *why = "auth_without_tls: " + where + " is not a loopback address: not sending the password without TLS";
    return false;
  }
  if (h.effective_port() >= 1024) {
    *why = "auth_without_tls: not sending the password without TLS to " + where +
           ": any local user can bind a port of 1024 or above first; use a port below 1024 or TLS";
    return false;
  }
  return true;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Status TlsContext::Create(const Config& cfg, std::unique_ptr<TlsContext>* out) {
  std::string why;
  if (!OpenSslLoaded(&why)) return Temp("TLS: " + why);
  auto t = std::unique_ptr<TlsContext>(new TlsContext);
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t->ctx_) return Temp("TLS: " + OpenSslError());
  SSL_CTX_set_min_proto_version(t->ctx_,
                                cfg.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  t->pins_ = cfg.tls_fingerprints;
  if (t->pins_.empty()) {
    // Verify the chain against the trust store; the host name is set per
    // connection. With pins, the pin is the trust decision instead.
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
    int ok = 1;
    if (cfg.tls_ca_file.empty() && cfg.tls_ca_dir.empty()) {
      ok = SSL_CTX_set_default_verify_paths(t->ctx_);
    } else {
      ok = SSL_CTX_load_verify_locations(t->ctx_, cfg.tls_ca_file.empty() ? nullptr : cfg.tls_ca_file.c_str(),
                                         cfg.tls_ca_dir.empty() ? nullptr : cfg.tls_ca_dir.c_str());
    }
    if (ok != 1) return Temp("TLS: cannot load CA certificates: " + OpenSslError());
  }
  if (!cfg.tls_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(t->ctx_, cfg.tls_cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(t->ctx_, cfg.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return Temp("TLS: cannot load client certificate: " + OpenSslError());
  }
  *out = std::move(t);
  return Status::Ok();
}

Status Connection::Open(const std::string& host, uint16_t port, int timeout_ms,
                        std::unique_ptr<Connection>* out, std::string* peer) {
  std::vector<SockAddr> addrs;
  *peer = host + "[?]:" + std::to_string(port);
  Status s = Resolve(host, port, timeout_ms, &addrs);
  if (!s.ok()) return s;
  int fd = -1;
  SockAddr which;
  s = ConnectHappyEyeballs(addrs, timeout_ms, &fd, &which);
  if (!s.ok()) return Temp(host + ": " + s.message());
  auto c = std::unique_ptr<Connection>(new Connection(fd));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->loopback_ = which.text.rfind("127.", 0) == 0 || which.text == "::1";
  *peer = host + "[" + which.text + "]:" + std::to_string(port);
  *out = std::move(c);
  return Status::Ok();
}

Status Connection::StartTls(TlsContext* tls, const std::string& host, int timeout_ms,
                            std::string* info) {
  ssl_ = SSL_new(tls->ctx());
  if (!ssl_) return Temp("TLS: " + OpenSslError());
  SSL_set_fd(ssl_, fd_);
  if (tls->pins().empty()) {
    // Fail closed: a name that cannot be set would mean no name check.
    int ok;
    if (IsIpLiteral(host)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    } else {
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl_, host.c_str());
    }
    if (ok != 1) return Temp("TLS: cannot set the host name to verify: " + host);
  }
  if (!IsIpLiteral(host)) SSL_set_tlsext_host_name(ssl_, host.c_str());
  for (;;) {
    int r = SSL_connect(ssl_);
    if (r == 1) break;
    // With pins the chain is not the trust decision (OpenSSL still records
    // its errors); without them, a failed handshake says why.
    if (tls->pins().empty() && SSL_get_error(ssl_, r) == SSL_ERROR_SSL) {
      long v = SSL_get_verify_result(ssl_);
      if (v != X509_V_OK)
        return Temp(std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(v));
    }
    Status s = TlsWait(r, timeout_ms, "in TLS handshake");
    if (!s.ok()) return s;
  }
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return Temp("TLS: the server sent no certificate");
  std::string subject = "?";
  if (char* line = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0)) {
    subject = line;
    OPENSSL_free(line);
  }
  if (!tls->pins().empty()) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), md, &n);
    std::string fp = "sha256:" + HexBytes(md, n);
    bool pinned = false;
    for (const std::string& p : tls->pins()) pinned |= p == fp;
    if (!pinned) {
      X509_free(cert);
      return Temp("TLS certificate fingerprint " + fp + " matches no tls_fingerprint");
    }
  }
  X509_free(cert);
  *info = std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_) +
          (tls->pins().empty() ? " verified " : " pinned ") + Printable(subject);
  return Status::Ok();
}

Status Connection::WriteFile(int fd, off_t offset, uint64_t len, int block_timeout_ms,
                             WireFormCheck* check) {
  char buf[65536];
  while (len > 0) {
    size_t want = len < sizeof buf ? static_cast<size_t>(len) : sizeof buf;
    ssize_t n = pread(fd, buf, want, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read queue file");
    if (n == 0) return Status::TempFail("queue file shorter than its end record says");
    // Checked in the buffer that is sent: what the file holds now or later
    // does not matter, only these bytes.
    if (check && !check->Feed(std::string_view(buf, static_cast<size_t>(n))))
      return Status::DataErr(check->error());
    Status s = Write(std::string_view(buf, static_cast<size_t>(n)), block_timeout_ms);
    if (!s.ok()) return s;
    offset += n;
    len -= static_cast<uint64_t>(n);
  }
  if (check && !check->Finish()) return Status::DataErr(check->error());
  return Status::Ok();
}

bool Connection::ChannelBinding(std::string* name, std::string* data) const {
  if (!ssl_) return false;
  unsigned char buf[64];
  if (SSL_version(ssl_) >= TLS1_3_VERSION) {
    static const char kLabel[] = "EXPORTER-Channel-Binding";
    if (SSL_export_keying_material(ssl_, buf, 32, kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1)
      return false;
    *name = "tls-exporter";
    data->assign(reinterpret_cast<char*>(buf), 32);
    return true;
  }
  // tls-unique: the first Finished message of the handshake, which the
  // client sent (no session resumption here).
  size_t n = SSL_get_finished(ssl_, buf, sizeof buf);
  if (n == 0) return false;
  *name = "tls-unique";
  data->assign(reinterpret_cast<char*>(buf), n);
  return true;
}

}  // namespace relay
