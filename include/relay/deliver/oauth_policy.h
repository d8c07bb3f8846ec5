// OAuth 2.0 refresh policy, pure (issue 17): when to refresh an access
// token, the form-encoded request to the token endpoint (RFC 6749 6 and
// 4.4), and what the endpoint's answer means. The HTTPS exchange and the
// token store are oauth_refresh.h's.
//
// Every failure of the token endpoint is temporary for the mail: an
// invalid_grant (a refresh token revoked, expired after Google's 7 days in
// "Testing" or Microsoft's 90 days unused, AADSTS700082), an endpoint that
// is down or slow. Nothing bounces; the status message names the command
// that fixes it. No message ever holds a token.
#ifndef RELAY_DELIVER_OAUTH_POLICY_H_
#define RELAY_DELIVER_OAUTH_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/base/status.h"
#include "relay/deliver/token_store.h"

namespace relay {

// The command that signs in again, named in every failure that needs it.
extern const char kOAuthFixCommand[];

// True when t has no access token, or it expires within ahead seconds (or
// exactly ahead) of
// now (unix seconds). An unknown expiry (0) counts as expired.
bool NeedsRefresh(const OAuthToken& t, int64_t now, int64_t ahead);

// application/x-www-form-urlencoded (RFC 6749 appendix B).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// The body of the token request for t: grant_type=refresh_token with the
// refresh token (RFC 6749 6), or client_credentials (4.4); client_id and
// client_secret in the body (2.3.1); scope when given. A Config-kind
// status when t cannot be refreshed (no client_id, no refresh token).
Status BuildTokenRequest(const OAuthToken& t, const std::string& scope, std::string* body);

struct TokenGrant {
  std::string access_token;
  std::string refresh_token;  // "" when the endpoint did not rotate it
  int64_t expires_in = 0;     // seconds
  void Wipe();
};

// The endpoint's answer: http_status (0: no answer at all, transport_error
// says why) and its body. Ok with the grant, else a TempFail whose message
// names the problem and the fix (never a token, text from the network
// made printable and cut short).
Status ReadTokenResponse(long http_status, std::string_view body, const std::string& transport_error,
                         TokenGrant* out);

// Puts the grant into t at now: the access token and its expiry, the
// refresh time, and a rotated refresh token with its issue time (the old
// one is forgotten only here, in memory; the caller saves t before using
// the new access token).
void ApplyGrant(const TokenGrant& g, int64_t now, OAuthToken* t);

}  // namespace relay

#endif  // RELAY_DELIVER_OAUTH_POLICY_H_
