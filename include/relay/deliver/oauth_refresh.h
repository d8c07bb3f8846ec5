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
// relay-https-post makes the POST (https_post.h: libcurl in a helper
// process, started only for a refresh): https only, the peer and host name verified
// against oauth_ca_file or the system store, no redirects, timeout_oauth
// for the whole exchange.
#ifndef RELAY_DELIVER_OAUTH_REFRESH_H_
#define RELAY_DELIVER_OAUTH_REFRESH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "relay/base/config.h"
#include "relay/base/status.h"
#include "relay/deliver/https_post.h"
#include "relay/deliver/token_store.h"

namespace relay {


// What is known of a store entry, without its secrets (for state/.health
// and relayctl status).
struct TokenFacts {
  int64_t access_expiry = 0;         // unix seconds
  int64_t last_refresh = 0;          // unix seconds
  int64_t refresh_token_issued = 0;  // unix seconds
  std::string problem;               // "" or the last failure, naming the fix
  bool checked = false;              // a login of this run got a token or a problem
};

// The token facts of each configured smarthost ("host:port"), from the
// store, read without the lock (a reader sees the old or the new file);
// problem from `problems` (the run's last word per host) where present.
// Empty without OAuth, or when the store cannot be read.
std::map<std::string, TokenFacts> ReadTokenFacts(const Config& cfg,
                                                 const std::map<std::string, std::string>& problems);

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
