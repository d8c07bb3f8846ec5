#include "relay/deliver/oauth_refresh.h"

#include <algorithm>
#include <mutex>

#include "relay/base/env.h"
#include "relay/deliver/oauth_policy.h"

namespace relay {

std::map<std::string, TokenFacts> ReadTokenFacts(const Config& cfg,
                                                 const std::map<std::string, std::string>& problems) {
  std::map<std::string, TokenFacts> out;
  if (!cfg.oauth()) return out;
  TokenStore store;
  uid_t owner = 0;
  bool readable = SpoolOwner(cfg, &owner).ok() && LoadTokenStore(TokenStorePath(cfg), owner, &store, nullptr).ok();
  for (const Smarthost& h : cfg.smarthosts) {
    std::string key = h.host + ":" + std::to_string(h.effective_port());
    TokenFacts f;
    if (const OAuthToken* t = readable ? store.Find(key) : nullptr) {
      f.access_expiry = t->access_expiry;
      f.last_refresh = t->last_refresh;
      f.refresh_token_issued = t->refresh_token_issued;
    }
    auto p = problems.find(key);
    if (p != problems.end()) {
      f.problem = p->second;
      f.checked = true;
    }
    out[key] = f;
  }
  store.Wipe();
  return out;
}

OAuthTokenSource::OAuthTokenSource(const Config& cfg, std::string key, Note note)
    : cfg_(cfg), key_(std::move(key)), note_(std::move(note)), path_(TokenStorePath(cfg)) {}

int64_t OAuthTokenSource::Now() const { return Env::Default()->NowMicros() / 1000000; }

Status OAuthTokenSource::Get(std::string* token) { return Obtain("", token); }

Status OAuthTokenSource::Renew(std::string* token) {
  std::string rejected = *token;
  WipeString(token);
  Status s = Obtain(rejected, token);
  WipeString(&rejected);
  return s;
}

Status OAuthTokenSource::Load(TokenStore* store) {
  uid_t owner = 0;
  bool missing = false;
  Status s = SpoolOwner(cfg_, &owner);
  if (s.ok()) s = LoadTokenStore(path_, owner, store, &missing);
  if (missing)
    return Status::TempFail("no OAuth token store at " + path_ + ": run " + std::string(kOAuthFixCommand));
  // A store that is wrong (mode, owner, JSON) is the user's to fix; for
  // the mail it is temporary like every token problem.
  if (!s.ok()) return Status::TempFail(s.message());
  if (!store->Find(key_))
    return Status::TempFail("the token store " + path_ + " has no entry for " + key_ +
                            " or \"default\": run " + std::string(kOAuthFixCommand));
  return Status::Ok();
}

void OAuthTokenSource::Record(const OAuthToken& t) {
  facts_.access_expiry = t.access_expiry;
  facts_.last_refresh = t.last_refresh;
  facts_.refresh_token_issued = t.refresh_token_issued;
}

Status OAuthTokenSource::Obtain(const std::string& rejected, std::string* token) {
  TokenStore store;
  Status s = Load(&store);
  // Without the lock first: the common case is a live token.
  if (s.ok()) {
    const OAuthToken* t = store.Find(key_);
    Record(*t);
    if (!NeedsRefresh(*t, Now(), cfg_.oauth_refresh_ahead) && t->access_token != rejected) {
      *token = t->access_token;
      store.Wipe();
      return Status::Ok();
    }
    TokenStoreLock lock;
    s = lock.Acquire(path_, static_cast<int>(cfg_.timeout_oauth * 2000 + 5000));
    // Read again under the lock: another run may have refreshed (and
    // rotated the refresh token) since.
    if (s.ok()) s = Load(&store);
    if (s.ok()) {
      t = store.Find(key_);
      Record(*t);
      if (!NeedsRefresh(*t, Now(), cfg_.oauth_refresh_ahead) && t->access_token != rejected)
        *token = t->access_token;
      else
        s = Refresh(&store, store.KeyFor(key_), token);
    }
  }
  store.Wipe();
  facts_.problem = s.ok() ? "" : s.message();
  return s;
}

Status OAuthTokenSource::Refresh(TokenStore* store, const std::string& entry_key, std::string* token) {
  OAuthToken& t = store->tokens[entry_key];
  std::string url = !cfg_.oauth_token_endpoint.empty() ? cfg_.oauth_token_endpoint : t.token_endpoint;
  if (url.rfind("https://", 0) != 0)
    return Status::TempFail("no https token endpoint for " + key_ + " (oauth_token_endpoint or the store's "
                            "token_endpoint): run " + std::string(kOAuthFixCommand));
  std::string form, response, transport;
  // An app-only entry asks for its own scope (Microsoft: .../.default),
  // never the preset's delegated one (SMTP.Send offline_access).
  bool own_scope = t.kind == "client_credentials" && !t.scope.empty();
  std::string scope = own_scope || cfg_.oauth_scope.empty() ? t.scope : cfg_.oauth_scope;
  Status s = BuildTokenRequest(t, scope, &form);
  if (!s.ok()) return Status::TempFail(s.message());
  long http = 0;
  s = PostForm(cfg_, url, form, &http, &response, &transport);
  WipeString(&form);
  TokenGrant g;
  if (s.ok()) s = ReadTokenResponse(http, response, transport, &g);
  WipeString(&response);
  if (!s.ok()) return s;
  bool rotated = !g.refresh_token.empty() && g.refresh_token != t.refresh_token;
  ApplyGrant(g, Now(), &t);
  g.Wipe();
  // Durable before it is used: a crash after this point loses nothing.
  s = SaveTokenStore(Env::Default(), path_, *store);
  if (!s.ok())
    return Status::TempFail("the refreshed token could not be saved to " + path_ + " (" + s.message() +
                            ")" + (rotated ? ": the rotated refresh token is lost; run " +
                                                 std::string(kOAuthFixCommand) : ""));
  Record(t);
  *token = t.access_token;
  if (note_)
    note_("oauth: refreshed the access token for " + entry_key + " (valid " + std::to_string(g.expires_in) +
          " s" + (rotated ? ", refresh token rotated and saved)" : ")"));
  return Status::Ok();
}

}  // namespace relay
