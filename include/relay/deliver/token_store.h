// The OAuth 2.0 token store: one JSON file holding, per smarthost, what
// relay-deliver needs to keep an access token alive without a helper script
// (issue 17): the provider, the client, the token endpoint, the refresh
// token and the current access token with its expiry.
//
// Default path SPOOL/state/oauth-tokens.json, or relay.conf's
// oauth_token_file. It holds secrets, so it must be a regular file of mode
// 0600 owned by the spool's owner; anything else is refused with one line
// naming the fix. Entries are keyed by the relay.conf smarthost name
// ("host:port") or "default", which every smarthost falls back to.
//
// Writers (relay-deliver refreshing, relayctl oauth) take an flock on
// PATH.lock, re-read the file under it, and replace it atomically (temp
// file, fsync, rename, fsync of the directory), so a rotated refresh token
// is durable before the old one is forgotten and two writers never lose
// each other's newest token.
//
// The format (all keys optional except as the flow needs them):
//   {"version": 1, "tokens": {"default": {
//      "provider": "gmail", "kind": "refresh" | "client_credentials",
//      "client_id": "...", "client_secret": "...", "tenant": "...",
//      "token_endpoint": "https://...", "scope": "...",
//      "refresh_token": "...", "access_token": "...",
//      "access_expiry": UNIX-SECONDS, "refresh_token_issued": UNIX-SECONDS,
//      "last_refresh": UNIX-SECONDS }}}
#ifndef RELAY_DELIVER_TOKEN_STORE_H_
#define RELAY_DELIVER_TOKEN_STORE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "relay/base/config.h"
#include "relay/base/env.h"
#include "relay/base/status.h"

namespace relay {

struct OAuthToken {
  std::string provider;
  std::string kind = "refresh";  // "refresh" or "client_credentials"
  std::string client_id;
  std::string client_secret;  // optional (Google's desktop clients have one)
  std::string tenant;         // Microsoft: the directory, or "consumers"
  std::string token_endpoint;
  std::string scope;
  std::string refresh_token;
  std::string access_token;
  int64_t access_expiry = 0;         // unix seconds; 0: unknown
  int64_t refresh_token_issued = 0;  // unix seconds: first stored
  int64_t last_refresh = 0;          // unix seconds: last successful refresh

  // Overwrites the secrets in memory before they are freed.
  void Wipe();
};

struct TokenStore {
  std::map<std::string, OAuthToken> tokens;  // key: "host:port" or "default"

  // The entry for key, else "default"; null when neither exists.
  const OAuthToken* Find(const std::string& key) const;
  // The key Find would use ("" when none).
  std::string KeyFor(const std::string& key) const;
  void Wipe();
};

// The path of the store: oauth_token_file, else SPOOL/state/oauth-tokens.json.
std::string TokenStorePath(const Config& cfg);

// Pure: JSON text <-> store. name is for error messages. A refusal names
// the entry and key that are wrong; the text of a token never appears in
// an error.
Status ParseTokenStore(std::string_view text, std::string_view name, TokenStore* out);
std::string SerializeTokenStore(const TokenStore& store);

// The file must be a regular file (not a link), mode 0600 (0400 also
// passes), owned by owner. A Config-kind status naming the fix otherwise.
Status CheckTokenStoreFile(const std::string& path, uid_t owner);
// The owner the store must have: the owner of spool_dir.
Status SpoolOwner(const Config& cfg, uid_t* owner);

// Reads, checks and parses the store. *missing (may be null) is set when
// there is no file; the status is then a TempFail.
Status LoadTokenStore(const std::string& path, uid_t owner, TokenStore* out, bool* missing);
// Writes the store atomically with mode 0600 (Env::WriteFileAtomic).
Status SaveTokenStore(Env* env, const std::string& path, const TokenStore& store);

// An flock on PATH.lock, held while a writer reads, refreshes and writes.
// Blocks until the lock is free or timeout_ms passes (TempFail).
class TokenStoreLock {
 public:
  TokenStoreLock() = default;
  ~TokenStoreLock();
  TokenStoreLock(const TokenStoreLock&) = delete;
  TokenStoreLock& operator=(const TokenStoreLock&) = delete;
  Status Acquire(const std::string& store_path, int timeout_ms);
  void Release();

 private:
  int fd_ = -1;
};

}  // namespace relay

#endif  // RELAY_DELIVER_TOKEN_STORE_H_
