// Whether OpenSSL can be used, and why not. Programs that link libssl
// directly (relayctl, relay-smtpd, the tests) always can: tls_stream.cc's
// weak definition says so. relay-deliver links src/tls/openssl_lazy.cc
// instead, which loads libssl.so.3 the first time a run needs TLS, so
// that a run to plain-SMTP smarthosts does not map OpenSSL at all (its
// resident memory; issue 19). Callers ask before their first OpenSSL call.
#ifndef RELAY_TLS_OPENSSL_LOADER_H_
#define RELAY_TLS_OPENSSL_LOADER_H_

#include <string>

namespace relay {

// True when OpenSSL's functions may be called; else false and *why names
// the library that could not be loaded and the loader's reason.
bool OpenSslLoaded(std::string* why);

}  // namespace relay

#endif  // RELAY_TLS_OPENSSL_LOADER_H_
