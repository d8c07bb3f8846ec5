// SASL client mechanisms for SMTP AUTH (RFC 4954). The session (pure) talks
// to a SaslMechanism; the implementations are libsasl2's client (SCRAM-*,
// CRAM-MD5, PLAIN, LOGIN, ...: src/deliver/sasl_cyrus.cc) and the two OAuth 2.0
// bearer mechanisms libsasl2 does not ship, XOAUTH2 and OAUTHBEARER, built
// in here (pure, so they are tested without a server).
#ifndef RELAY_SMTP_SASL_H_
#define RELAY_SMTP_SASL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"

namespace relay {

class SaslMechanism {
 public:
  virtual ~SaslMechanism() = default;
  virtual const std::string& name() const = 0;
  // The initial response (raw bytes, not base64). *has_initial is false
  // when the mechanism starts with an empty AUTH command.
  virtual Status Start(std::string* initial, bool* has_initial) = 0;
  // A server challenge (decoded) -> the next response (raw bytes).
  virtual Status Step(std::string_view challenge, std::string* response) = 0;
};

// Chooses and creates a mechanism for one connection.
class SaslClientFactory {
 public:
  virtual ~SaslClientFactory() = default;
  // server: the mechanisms the server offers (upper case). Returns null
  // and sets *error when none is acceptable.
  virtual std::unique_ptr<SaslMechanism> Create(const std::vector<std::string>& server,
                                                std::string* error) = 0;
  // The server refused a bearer token as bad or expired
  // (BearerTokenRefused): get a fresh one for one more AUTH in the same
  // session (issue 17). False when there is none to get; the session then
  // fails as it would have. Passwords are never renewed.
  virtual bool Renew() { return false; }
};

// Whether a failed AUTH with XOAUTH2/OAUTHBEARER says the token itself is
// bad, so that a refreshed one may pass: 535 (Gmail 5.7.8, Microsoft
// 5.7.3/5.7.139: the 334 + JSON {"status":"401"} challenge ends there),
// and replies that speak of the token expiring ("4.7.0 ... token will
// expire soon", 5.5.127). Not "454 4.7.0 too many login attempts" or
// "530 5.7.0 must issue STARTTLS": a new token would change nothing.
bool BearerTokenRefused(int code, std::string_view text);
bool IsBearerMechanism(std::string_view name);

// The client's choice: the configured allow-list in its order when given,
// else this default preference, strongest first. OAuth mechanisms are only
// used when named, since they need a token, not a password.
const std::vector<std::string>& DefaultMechanismPreference();
// The first mechanism of preference the server offers; "" for none.
std::string ChooseMechanism(const std::vector<std::string>& preference,
                            const std::vector<std::string>& server);

// XOAUTH2 (Google, Microsoft): "user=U^Aauth=Bearer T^A^A". A failed login
// gets a 334 with a JSON error; the answer is an empty response.
std::unique_ptr<SaslMechanism> NewXOAuth2(std::string user, std::string token);
// OAUTHBEARER (RFC 7628): "n,a=U,^Aauth=Bearer T^A^A"; on error "^A".
std::unique_ptr<SaslMechanism> NewOAuthBearer(std::string user, std::string token);

std::string Base64Encode(std::string_view in);
bool Base64Decode(std::string_view in, std::string* out);

}  // namespace relay

#endif  // RELAY_SMTP_SASL_H_
