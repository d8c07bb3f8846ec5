#include "relay/tls/tls_server.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "relay/base/strings.h"
#include "relay/tls/tls_stream.h"

namespace relay {
namespace {

// Asks for a certificate but lets the handshake go on whatever it is: the
// decision is ClientIdentity's, after the handshake, where it can be
// logged. OpenSSL still records the chain's verdict for it.
int KeepGoing(int, X509_STORE_CTX*) { return 1; }

std::string CommonName(X509* cert) {
  char cn[256] = "";
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return n > 0 ? std::string(cn, static_cast<size_t>(n)) : "";
}

}  // namespace

ServerTls::~ServerTls() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Status ServerTls::Create(const Config& cfg, std::unique_ptr<ServerTls>* out) {
  auto t = std::unique_ptr<ServerTls>(new ServerTls);
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return Status::TempFail("TLS: " + OpenSslError());
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  // A client may not make the server redo the handshake's work at will.
  SSL_CTX_set_options(t->ctx_, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(t->ctx_, cfg.listen_tls_cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(t->ctx_, cfg.listen_tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(t->ctx_) != 1)
    return Status::Config("listen_tls_cert_file/listen_tls_key_file: " + OpenSslError());
  t->pins_ = cfg.listen_client_fingerprints;
  if (!cfg.listen_client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(t->ctx_, cfg.listen_client_ca.c_str(), nullptr) != 1)
      return Status::Config("listen_client_ca " + cfg.listen_client_ca + ": " + OpenSslError());
    // Tells clients which CA to pick a certificate for.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.listen_client_ca.c_str()))
      SSL_CTX_set_client_CA_list(t->ctx_, names);
    t->have_ca_ = true;
  }
  if (t->have_ca_ || !t->pins_.empty()) SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, KeepGoing);
  // One process per client: a session cache would never be hit.
  SSL_CTX_set_session_cache_mode(t->ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(t->ctx_, 0);
  *out = std::move(t);
  return Status::Ok();
}

std::string ServerTls::ClientIdentity(SSL* ssl, std::string* info) const {
  *info = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  std::string fp = "sha256:" + HexBytes(md, n);
  std::string cn = Printable(CommonName(cert));
  X509_free(cert);
  bool pinned = false;
  for (const std::string& p : pins_) pinned |= p == fp;
  long verdict = SSL_get_verify_result(ssl);
  bool signed_by_ca = have_ca_ && verdict == X509_V_OK;
  *info += " client certificate CN=" + (cn.empty() ? "?" : cn) + " " + fp;
  if (!pinned && !signed_by_ca) {
    *info += " not accepted (" +
             std::string(have_ca_ ? X509_verify_cert_error_string(verdict) : "no listen_client_fingerprint matches") +
             ")";
    return "";
  }
  *info += pinned ? " accepted by fingerprint" : " accepted by listen_client_ca";
  return cn.empty() ? fp : cn;
}

}  // namespace relay
