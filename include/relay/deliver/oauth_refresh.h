// OAuthTokenSource: a live access token for one smarthost, from the token
// store (token_store.h), refreshed over HTTPS when oauth_policy.h says so
// (issue 17). Used by SmarthostClient for each login, in relay-deliver
// and `relayctl test`.
//
// A refresh happens under the store's lock: the store is read again under
// it, and when another run has already refreshed (the stored access token
// is live and not the one just refused), that token is used and the
// endpoint is not asked, so a rotated refresh token is spent once. The
// new refresh token is written (atomically) before the access token is
// handed out, so it is never only in memory while mail goes out.
//
// libcurl makes the POST: https only, the peer and host name verified
// against oauth_ca_file or the system store, no redirects, timeout_oauth
// for the whole exchange.
#ifndef RELAY_DELIVER_OAUTH_REFRESH_H_
#define RELAY_DELIVER_OAUTH_REFRESH_H_

#include <cstdint>
#include <functional>
#include <string>

#include "relay/base/config.h"
#include "relay/base/status.h"
#include "relay/deliver/token_store.h"

namespace relay {

// One HTTPS POST of a form. *http_status is 0 when no answer came
// (*transport_error says why). The body is never logged.
Status PostForm(const Config& cfg, const std::string& url, const std::string& form, long* http_status,
                std::string* response, std::string* transport_error);

// What is known of a store entry, without its secrets (for state/.health
// and relayctl status).
struct TokenFacts {
  int64_t access_expiry = 0;         // unix seconds
  int64_t last_refresh = 0;          // unix seconds
  int64_t refresh_token_issued = 0;  // unix seconds
  std::string problem;               // "" or the last failure, naming the fix
};

class OAuthTokenSource {
 public:
  using Note = std::function<void(const std::string&)>;
  // key: the smarthost's "host:port" (the store falls back to "default").
  // note: gets one line per refresh (no token text), may be null.
  OAuthTokenSource(const Config& cfg, std::string key, Note note);

  // A token with more than oauth_refresh_ahead left, refreshed if need be.
  Status Get(std::string* token);
  // The server refused `rejected`: a newer token (another run's, or a
  // refresh now). Wipes *token first.
  Status Renew(std::string* token);

  const TokenFacts& facts() const { return facts_; }

 private:
  Status Obtain(const std::string& rejected, std::string* token);
  Status Load(TokenStore* store);
  // Under the lock: POSTs, applies, saves.
  Status Refresh(TokenStore* store, const std::string& entry_key, std::string* token);
  void Record(const OAuthToken& t);
  int64_t Now() const;

  const Config& cfg_;
  std::string key_;
  Note note_;
  std::string path_;
  TokenFacts facts_;
};

}  // namespace relay

#endif  // RELAY_DELIVER_OAUTH_REFRESH_H_
