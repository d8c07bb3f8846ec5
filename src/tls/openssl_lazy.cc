// relay-deliver's OpenSSL, loaded on first use (openssl_loader.h). Linked
// into relay-deliver only, in place of libssl and libcrypto: each function
// relay calls is defined here and forwards to the one dlsym() finds in
// libssl.so.3 (which brings libcrypto.so.3), so a run whose smarthosts are
// all plain SMTP never maps OpenSSL. Mapping it cost about 1.7 MiB of
// resident memory per run (libcrypto 1448 KiB, libssl 244 KiB, smaps of
// a plain 64 MiB relay) before a single TLS byte.
//
// This is a loader, not a TLS implementation: every call is OpenSSL's own.
// The prototypes are checked by the compiler against OpenSSL's headers,
// which declare every function below.
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <mutex>
#include <string>

#include "relay/tls/openssl_loader.h"

namespace relay {
namespace {

// The soname this build's headers belong to: 3 for OpenSSL 3.x.
#define RELAY_STR2(x) #x
#define RELAY_STR(x) RELAY_STR2(x)
constexpr const char* kLibSsl = "libssl.so." RELAY_STR(OPENSSL_VERSION_MAJOR);

std::once_flag g_once;
void* g_ssl = nullptr;
std::string g_error;

void Load() {
  // RTLD_LOCAL: nothing else in the process binds to these symbols.
  g_ssl = dlopen(kLibSsl, RTLD_NOW | RTLD_LOCAL);
  if (!g_ssl) {
    const char* e = dlerror();
    g_error = std::string("cannot load ") + kLibSsl + ": " + (e ? e : "unknown error");
  }
}

void* Symbol(const char* name) {
  std::call_once(g_once, Load);
  void* p = g_ssl ? dlsym(g_ssl, name) : nullptr;
  // Reached only after OpenSslLoaded() said yes (TlsContext::Create asks
  // first), so a missing symbol means a libssl that does not match the
  // headers: stop rather than call through a null pointer.
  if (!p) abort();
  return p;
}

}  // namespace

bool OpenSslLoaded(std::string* why) {
  std::call_once(g_once, Load);
  if (!g_ssl && why) *why = g_error;
  return g_ssl != nullptr;
}

}  // namespace relay

// Each forwarder finds its target once; function-local statics are
// initialised thread-safely, and the workers may race to the first call.
#define RELAY_FORWARD(ret, name, params, args)                                   \
  ret name params {                                                              \
    static const auto fn = reinterpret_cast<decltype(&name)>(relay::Symbol(#name)); \
    return fn args;                                                              \
  }

extern "C" {
RELAY_FORWARD(void, CRYPTO_free, (void* p, const char* file, int line), (p, file, line))
RELAY_FORWARD(void, ERR_clear_error, (void), ())
RELAY_FORWARD(void, ERR_error_string_n, (unsigned long e, char* buf, size_t len), (e, buf, len))
RELAY_FORWARD(unsigned long, ERR_get_error, (void), ())
RELAY_FORWARD(const EVP_MD*, EVP_sha256, (void), ())
RELAY_FORWARD(const char*, SSL_CIPHER_get_name, (const SSL_CIPHER* c), (c))
RELAY_FORWARD(long, SSL_CTX_ctrl, (SSL_CTX * ctx, int cmd, long larg, void* parg), (ctx, cmd, larg, parg))
RELAY_FORWARD(void, SSL_CTX_free, (SSL_CTX * ctx), (ctx))
RELAY_FORWARD(int, SSL_CTX_load_verify_locations, (SSL_CTX * ctx, const char* file, const char* dir),
              (ctx, file, dir))
RELAY_FORWARD(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* m), (m))
RELAY_FORWARD(int, SSL_CTX_set_default_verify_paths, (SSL_CTX * ctx), (ctx))
RELAY_FORWARD(void, SSL_CTX_set_verify, (SSL_CTX * ctx, int mode, SSL_verify_cb cb), (ctx, mode, cb))
RELAY_FORWARD(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * ctx, const char* file, int type), (ctx, file, type))
RELAY_FORWARD(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * ctx, const char* file), (ctx, file))
RELAY_FORWARD(int, SSL_accept, (SSL * s), (s))
RELAY_FORWARD(int, SSL_connect, (SSL * s), (s))
RELAY_FORWARD(long, SSL_ctrl, (SSL * s, int cmd, long larg, void* parg), (s, cmd, larg, parg))
RELAY_FORWARD(int, SSL_export_keying_material,
              (SSL * s, unsigned char* out, size_t olen, const char* label, size_t llen,
               const unsigned char* context, size_t contextlen, int use_context),
              (s, out, olen, label, llen, context, contextlen, use_context))
RELAY_FORWARD(void, SSL_free, (SSL * s), (s))
RELAY_FORWARD(X509_VERIFY_PARAM*, SSL_get0_param, (SSL * s), (s))
RELAY_FORWARD(X509*, SSL_get1_peer_certificate, (const SSL* s), (s))
RELAY_FORWARD(const SSL_CIPHER*, SSL_get_current_cipher, (const SSL* s), (s))
RELAY_FORWARD(int, SSL_get_error, (const SSL* s, int ret), (s, ret))
RELAY_FORWARD(size_t, SSL_get_finished, (const SSL* s, void* buf, size_t count), (s, buf, count))
RELAY_FORWARD(long, SSL_get_verify_result, (const SSL* s), (s))
RELAY_FORWARD(const char*, SSL_get_version, (const SSL* s), (s))
RELAY_FORWARD(SSL*, SSL_new, (SSL_CTX * ctx), (ctx))
RELAY_FORWARD(int, SSL_pending, (const SSL* s), (s))
RELAY_FORWARD(int, SSL_read_ex, (SSL * s, void* buf, size_t num, size_t* got), (s, buf, num, got))
RELAY_FORWARD(int, SSL_set1_host, (SSL * s, const char* host), (s, host))
RELAY_FORWARD(int, SSL_set_fd, (SSL * s, int fd), (s, fd))
RELAY_FORWARD(void, SSL_set_hostflags, (SSL * s, unsigned int flags), (s, flags))
RELAY_FORWARD(int, SSL_version, (const SSL* s), (s))
RELAY_FORWARD(int, SSL_write_ex, (SSL * s, const void* buf, size_t num, size_t* written), (s, buf, num, written))
RELAY_FORWARD(const SSL_METHOD*, TLS_client_method, (void), ())
RELAY_FORWARD(char*, X509_NAME_oneline, (const X509_NAME* a, char* buf, int size), (a, buf, size))
RELAY_FORWARD(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM * param, const char* ipasc), (param, ipasc))
RELAY_FORWARD(int, X509_digest, (const X509* data, const EVP_MD* type, unsigned char* md, unsigned int* len),
              (data, type, md, len))
RELAY_FORWARD(void, X509_free, (X509 * a), (a))
RELAY_FORWARD(X509_NAME*, X509_get_subject_name, (const X509* a), (a))
RELAY_FORWARD(const char*, X509_verify_cert_error_string, (long n), (n))
}
