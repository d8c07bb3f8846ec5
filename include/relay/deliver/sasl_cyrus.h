// SASL mechanisms from Cyrus libsasl2's client library (SCRAM-SHA-256,
// SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, ... as the installed plugins offer),
// plus the built-in XOAUTH2 and OAUTHBEARER when the allow-list names them.
#ifndef RELAY_DELIVER_SASL_CYRUS_H_
#define RELAY_DELIVER_SASL_CYRUS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relay/smtp/sasl.h"

namespace relay {

// Channel binding for SCRAM-*-PLUS, fetched when a mechanism is created
// (after STARTTLS): returns false when there is none.
using ChannelBindingSource = std::function<bool(std::string* name, std::string* data)>;

// preference: auth_mechanisms, or empty for DefaultMechanismPreference()
// (with SCRAM-*-PLUS first when channel binding is available).
// host: the smarthost's name (some mechanisms bind to it).
// renew: for OAuth tokens, replaces the refused token in its argument
// with a fresh one (SaslClientFactory::Renew); null: no renewal.
using SecretRenewer = std::function<bool(std::string* secret)>;
std::unique_ptr<SaslClientFactory> NewSaslFactory(std::string user, std::string secret,
                                                  std::vector<std::string> preference,
                                                  std::string host,
                                                  ChannelBindingSource cb = nullptr,
                                                  SecretRenewer renew = nullptr);

}  // namespace relay

#endif  // RELAY_DELIVER_SASL_CYRUS_H_
