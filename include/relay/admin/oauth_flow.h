// relayctl oauth login: the pure parts of the first OAuth2 login (no I/O).
//
// - PKCE (RFC 7636, S256) and the state parameter, from OpenSSL's RAND_bytes;
// - the authorization URL of the authorization-code flow (RFC 6749 4.1) with
//   a loopback redirect (RFC 8252), and the parse of the redirect it ends in;
// - the device authorization response and the polling state machine of the
//   device flow (RFC 8628 3.2, 3.5);
// - the token endpoint's answer (RFC 6749 5.1, 5.2).
//
// The edge (oauth_command.cc) does the HTTPS, the listening socket and the
// token store; everything it decides comes from here.
#ifndef RELAY_ADMIN_OAUTH_FLOW_H_
#define RELAY_ADMIN_OAUTH_FLOW_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/base/status.h"

namespace relay {

// ---------------------------------------------------------------- encodings

// base64url (RFC 4648 section 5) without '=' padding, as PKCE wants it.
std::string Base64Url(std::string_view bytes);
// Percent-encoding of everything but RFC 3986's unreserved characters.
std::string UrlEncode(std::string_view s);
// The decoding of application/x-www-form-urlencoded values ('+' is a space).
// False on a '%' not followed by two hex digits.
bool UrlDecode(std::string_view s, std::string* out);
// (FormEncode, for request bodies, is relay-deliver's: oauth_policy.h.)

// ---------------------------------------------------------------- PKCE and state

struct Pkce {
  std::string verifier;   // 43 characters of [A-Za-z0-9-_] (32 random bytes)
  std::string challenge;  // BASE64URL(SHA256(verifier))
};
// The S256 challenge of a verifier (RFC 7636 4.2).
std::string PkceChallenge(std::string_view verifier);
// A fresh verifier and its challenge; Software when the RNG fails.
Status NewPkce(Pkce* out);
// A fresh state parameter: 16 random bytes, base64url.
Status NewState(std::string* out);

// ---------------------------------------------------------------- providers

// Where a provider's login happens. The token endpoint and scope are also
// what relay.conf's provider preset names for the refresh.
struct LoginEndpoints {
  std::string provider;             // gmail, google-workspace-relay, microsoft365, outlook
  std::string authorize_endpoint;   // authorization-code flow
  std::string device_endpoint;      // "" when the provider has no device flow for mail
  std::string token_endpoint;
  std::string scope;                // for the user's login
  std::string app_scope;            // client credentials (app-only); "" when none
  // Extra parameters of the authorization URL (Google: access_type=offline,
  // prompt=consent, so that a refresh token comes back every time).
  std::vector<std::pair<std::string, std::string>> authorize_extra;
};
// The endpoints of a known provider; tenant is Microsoft's (a tenant id,
// a domain, "organizations", "consumers" or "common"; empty: the
// provider's default). Usage error naming the known ones otherwise.
Status LookupLoginEndpoints(std::string_view provider, std::string_view tenant, LoginEndpoints* out);

// Microsoft's v2.0 endpoints are siblings: when relay.conf moves the token
// endpoint (a national cloud such as login.microsoftonline.us, or a test
// server), .../oauth2/v2.0/token gives .../authorize and .../devicecode
// beside it. Any other endpoint leaves *ep as it is; false then.
bool FollowMicrosoftTokenEndpoint(std::string_view token_endpoint, LoginEndpoints* ep);

// ---------------------------------------------------------------- authorization code

struct AuthorizationRequest {
  std::string authorize_endpoint;
  std::string client_id;
  std::string redirect_uri;  // http://127.0.0.1:PORT/
  std::string scope;
  std::string state;
  std::string code_challenge;
  std::string login_hint;  // optional
  std::vector<std::pair<std::string, std::string>> extra;
};
// The URL the user opens (response_type=code, code_challenge_method=S256).
std::string AuthorizationUrl(const AuthorizationRequest& req);

// The redirect's request line target ("/?code=...&state=..."): the code
// when state matches, else a DataErr naming what came back (the provider's
// error and description, a missing code, a state that does not match).
// The state is checked first, even for an error: anyone on the host can
// reach the loopback listener, so a redirect without this login's state
// (none, or another) is not an answer to it, and *not_ours (when given)
// is set so that the caller can refuse it and go on waiting.
Status ParseRedirectTarget(std::string_view target, std::string_view expected_state, std::string* code,
                           bool* not_ours = nullptr);

// ---------------------------------------------------------------- tokens

struct TokenResponse {
  std::string access_token;
  std::string refresh_token;  // "" when none came (client credentials)
  std::string token_type;
  std::string scope;
  int64_t expires_in = 0;  // seconds; 0 when absent
};
// An OAuth2 error reply's "error" code and description, printable.
struct OAuthError {
  std::string code;         // "" when the reply is not an OAuth2 error
  std::string description;
};
OAuthError ParseOAuthError(std::string_view body);

// The token endpoint's answer: the tokens on 200, else a Status naming the
// error ("invalid_grant: ..."); 5xx and 429 are temporary. No token text
// ever goes into a message.
Status ParseTokenResponse(long http_status, std::string_view body, TokenResponse* out);

// ---------------------------------------------------------------- device flow

struct DeviceAuthorization {
  std::string device_code;
  std::string user_code;
  std::string verification_uri;           // verification_url too (Google's older name)
  std::string verification_uri_complete;  // optional
  int64_t expires_in = 0;
  int64_t interval = 5;
};
Status ParseDeviceAuthorization(long http_status, std::string_view body, DeviceAuthorization* out);

// The polling of RFC 8628 3.5. The caller waits wait_seconds(), polls the
// token endpoint, and feeds the answer to OnAnswer, until done() or failed.
// Time is counted from the waits themselves (no clock): after expires_in
// seconds of waiting the code has expired.
class DevicePoll {
 public:
  enum class Step { kWait, kDone, kFailed };

  explicit DevicePoll(const DeviceAuthorization& da);

  // Seconds to wait before the next poll.
  int64_t wait_seconds() const { return interval_; }
  // The next step after a poll answered with http_status and body. On
  // kDone, *tokens holds the tokens; on kFailed, status() says why.
  Step OnAnswer(long http_status, std::string_view body, TokenResponse* tokens);
  const Status& status() const { return status_; }
  int64_t interval() const { return interval_; }

 private:
  int64_t interval_;
  int64_t expires_in_;
  int64_t waited_ = 0;
  Status status_;
};

}  // namespace relay

#endif  // RELAY_ADMIN_OAUTH_FLOW_H_
