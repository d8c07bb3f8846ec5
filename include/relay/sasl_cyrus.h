// SASL mechanisms from Cyrus libsasl2's client library (SCRAM-SHA-256,
// SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, ... as the installed plugins offer),
// plus the built-in XOAUTH2 and OAUTHBEARER when the allow-list names them.
#ifndef RELAY_SASL_CYRUS_H_
#define RELAY_SASL_CYRUS_H_

#include <memory>
#include <string>
#include <vector>

#include "relay/sasl.h"

namespace relay {

// preference: auth_mechanisms, or empty for DefaultMechanismPreference().
// host: the smarthost's name (some mechanisms bind to it).
std::unique_ptr<SaslClientFactory> NewSaslFactory(std::string user, std::string secret,
                                                  std::vector<std::string> preference,
                                                  std::string host);

}  // namespace relay

#endif  // RELAY_SASL_CYRUS_H_
