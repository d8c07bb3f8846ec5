#include "relay/deliver/oauth_refresh.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "relay/base/env.h"
#include "relay/deliver/oauth_policy.h"

namespace relay {
namespace {

constexpr size_t kMaxResponse = 64 * 1024;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxResponse) return 0;  // curl stops: CURLE_WRITE_ERROR
  out->append(data, size * n);
  return size * n;
}

void WipeString(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

}  // namespace

Status PostForm(const Config& cfg, const std::string& url, const std::string& form, long* http_status,
                std::string* response, std::string* transport_error) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  *http_status = 0;
  response->clear();
  transport_error->clear();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::TempFail("cannot start libcurl");
  char err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!cfg.oauth_ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, cfg.oauth_ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(cfg.timeout_oauth));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<int64_t>(cfg.timeout_oauth, cfg.timeout_connect)));
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "relay");
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status);
  } else {
    *transport_error = std::string(curl_easy_strerror(rc)) + (err[0] ? std::string(": ") + err : "");
    WipeString(response);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return Status::Ok();
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
  Status s = BuildTokenRequest(t, !cfg_.oauth_scope.empty() ? cfg_.oauth_scope : t.scope, &form);
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
