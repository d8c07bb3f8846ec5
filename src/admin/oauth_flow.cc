// The pure parts of relayctl oauth login; see oauth_flow.h.
#include "relay/admin/oauth_flow.h"

#include <cctype>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "relay/base/strings.h"
#include "relay/deliver/oauth_policy.h"

namespace relay {

// ---------------------------------------------------------------- encodings

std::string Base64Url(std::string_view bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    for (int s = 18; s >= 6; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool UrlDecode(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      *out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else {
      *out += s[i];
    }
  }
  return true;
}


// ---------------------------------------------------------------- PKCE and state

std::string PkceChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64Url(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

namespace {

Status RandomText(size_t bytes, std::string* out) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    return Status::Software("OpenSSL's random number generator failed");
  *out = Base64Url(raw);
  return Status::Ok();
}

}  // namespace

Status NewPkce(Pkce* out) {
  Status s = RandomText(32, &out->verifier);  // 43 characters, RFC 7636 4.1's minimum
  if (!s.ok()) return s;
  out->challenge = PkceChallenge(out->verifier);
  return Status::Ok();
}

Status NewState(std::string* out) { return RandomText(16, out); }

// ---------------------------------------------------------------- providers

Status LookupLoginEndpoints(std::string_view provider, std::string_view tenant, LoginEndpoints* out) {
  *out = LoginEndpoints{};
  out->provider = std::string(provider);
  if (provider == "gmail" || provider == "google-workspace-relay") {
    if (!tenant.empty()) return Status::Usage("--tenant is Microsoft's; " + out->provider + " has none");
    out->authorize_endpoint = "https://accounts.google.com/o/oauth2/v2/auth";
    out->token_endpoint = "https://oauth2.googleapis.com/token";
    out->scope = "https://mail.google.com/";
    // Google's device flow does not allow the mail scope.
    out->authorize_extra = {{"access_type", "offline"}, {"prompt", "consent"}};
    return Status::Ok();
  }
  if (provider == "microsoft365" || provider == "outlook") {
    std::string t(tenant);
    if (t.empty()) t = provider == "outlook" ? "consumers" : "organizations";
    for (char c : t)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
        return Status::Usage("--tenant '" + Printable(t) + "' is not a tenant id or domain");
    std::string base = "https://login.microsoftonline.com/" + t + "/oauth2/v2.0/";
    out->authorize_endpoint = base + "authorize";
    out->device_endpoint = base + "devicecode";
    out->token_endpoint = base + "token";
    out->scope = "https://outlook.office.com/SMTP.Send offline_access";
    if (provider == "microsoft365") out->app_scope = "https://outlook.office365.com/.default";
    return Status::Ok();
  }
  return Status::Usage("unknown provider '" + Printable(provider) +
                       "': known are gmail, google-workspace-relay, microsoft365, outlook");
}

bool FollowMicrosoftTokenEndpoint(std::string_view token_endpoint, LoginEndpoints* ep) {
  constexpr std::string_view kTail = "/oauth2/v2.0/token";
  if (ep->provider != "microsoft365" && ep->provider != "outlook") return false;
  if (token_endpoint.rfind("https://", 0) != 0 || token_endpoint.size() <= kTail.size() ||
      token_endpoint.substr(token_endpoint.size() - kTail.size()) != kTail)
    return false;
  std::string base(token_endpoint.substr(0, token_endpoint.size() - std::string_view("token").size()));
  ep->token_endpoint = std::string(token_endpoint);
  ep->authorize_endpoint = base + "authorize";
  ep->device_endpoint = base + "devicecode";
  return true;
}

// ---------------------------------------------------------------- authorization code

std::string AuthorizationUrl(const AuthorizationRequest& req) {
  std::vector<std::pair<std::string, std::string>> q = {
      {"response_type", "code"}, {"client_id", req.client_id},       {"redirect_uri", req.redirect_uri},
      {"scope", req.scope},      {"state", req.state},               {"code_challenge", req.code_challenge},
      {"code_challenge_method", "S256"}};
  if (!req.login_hint.empty()) q.emplace_back("login_hint", req.login_hint);
  for (const auto& kv : req.extra) q.push_back(kv);
  char sep = req.authorize_endpoint.find('?') == std::string::npos ? '?' : '&';
  return req.authorize_endpoint + sep + FormEncode(q);
}

namespace {

// The query of a request target as name -> decoded value; false when a
// value cannot be decoded.
bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* out) {
  for (std::string_view part : Split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k, v;
    if (!UrlDecode(part.substr(0, eq), &k)) return false;
    if (eq != std::string_view::npos && !UrlDecode(part.substr(eq + 1), &v)) return false;
    out->emplace_back(k, v);
  }
  return true;
}

const std::string* QueryValue(const std::vector<std::pair<std::string, std::string>>& q, const char* name) {
  for (const auto& [k, v] : q)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace

Status ParseRedirectTarget(std::string_view target, std::string_view expected_state, std::string* code,
                           bool* not_ours) {
  if (not_ours) *not_ours = true;
  size_t qm = target.find('?');
  if (qm == std::string_view::npos)
    return Status::DataErr("the redirect carries no query (no code, no error)");
  std::vector<std::pair<std::string, std::string>> q;
  if (!ParseQuery(target.substr(qm + 1), &q)) return Status::DataErr("the redirect's query is not URL-encoded");
  const std::string* state = QueryValue(q, "state");
  if (!state) return Status::DataErr("the redirect has no state parameter: not the answer to this login");
  if (*state != expected_state)
    return Status::DataErr("the redirect's state does not match this login's (a stale or forged redirect)");
  if (not_ours) *not_ours = false;
  if (const std::string* err = QueryValue(q, "error")) {
    const std::string* desc = QueryValue(q, "error_description");
    return Status::DataErr("the provider refused the login: " + Printable(*err) +
                           (desc ? ": " + Printable(*desc) : std::string()));
  }
  const std::string* c = QueryValue(q, "code");
  if (!c || c->empty()) return Status::DataErr("the redirect has no code");
  *code = *c;
  return Status::Ok();
}

// ---------------------------------------------------------------- tokens

OAuthError ParseOAuthError(std::string_view body) {
  OAuthError e;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return e;
  if (auto it = j.find("error"); it != j.end() && it->is_string()) e.code = Printable(it->get<std::string>());
  if (auto it = j.find("error_description"); it != j.end() && it->is_string())
    e.description = Printable(it->get<std::string>().substr(0, 300));
  return e;
}

namespace {

// A Status for a reply that is not a token: temporary when the endpoint
// may answer otherwise later (5xx, 429, or no JSON at all).
Status TokenError(long http_status, std::string_view body) {
  OAuthError e = ParseOAuthError(body);
  std::string what = e.code.empty() ? "HTTP " + std::to_string(http_status) + " without an OAuth2 error"
                                    : e.code + (e.description.empty() ? "" : ": " + e.description);
  bool temp = http_status >= 500 || http_status == 429 || e.code == "temporarily_unavailable" ||
              e.code == "server_error" || (e.code.empty() && http_status != 400 && http_status != 401);
  std::string msg = "token endpoint: " + what;
  return temp ? Status::TempFail(msg) : Status::NoPerm(msg);
}

bool GetString(const nlohmann::json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

// expires_in as a number or, as some endpoints send it, a string of digits.
bool GetSeconds(const nlohmann::json& j, const char* key, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return *out >= 0;
  }
  if (!it->is_string()) return false;
  std::string s = it->get<std::string>();
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoll(s);
  return true;
}

}  // namespace

Status ParseTokenResponse(long http_status, std::string_view body, TokenResponse* out) {
  *out = TokenResponse{};
  if (http_status != 200) return TokenError(http_status, body);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return Status::TempFail("token endpoint: the answer is not a JSON object");
  if (!GetString(j, "access_token", &out->access_token) || out->access_token.empty())
    return Status::TempFail("token endpoint: the answer has no access_token");
  GetString(j, "refresh_token", &out->refresh_token);
  GetString(j, "token_type", &out->token_type);
  GetString(j, "scope", &out->scope);
  if (!out->token_type.empty() && !EqualsIgnoreCase(out->token_type, "Bearer"))
    return Status::NoPerm("token endpoint: token_type '" + Printable(out->token_type) +
                          "' is not Bearer, which SMTP's XOAUTH2 and OAUTHBEARER need");
  if (j.contains("expires_in") && !GetSeconds(j, "expires_in", &out->expires_in))
    return Status::TempFail("token endpoint: expires_in is not a number of seconds");
  return Status::Ok();
}

// ---------------------------------------------------------------- device flow

Status ParseDeviceAuthorization(long http_status, std::string_view body, DeviceAuthorization* out) {
  *out = DeviceAuthorization{};
  if (http_status != 200) return TokenError(http_status, body).Prefixed("device authorization");
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return Status::TempFail("device authorization: the answer is not a JSON object");
  if (!GetString(j, "device_code", &out->device_code) || out->device_code.empty())
    return Status::TempFail("device authorization: the answer has no device_code");
  if (!GetString(j, "user_code", &out->user_code) || out->user_code.empty())
    return Status::TempFail("device authorization: the answer has no user_code");
  if (!GetString(j, "verification_uri", &out->verification_uri) &&
      !GetString(j, "verification_url", &out->verification_uri))
    return Status::TempFail("device authorization: the answer has no verification_uri");
  GetString(j, "verification_uri_complete", &out->verification_uri_complete);
  if (!GetSeconds(j, "expires_in", &out->expires_in) || out->expires_in <= 0)
    return Status::TempFail("device authorization: the answer has no expires_in");
  if (j.contains("interval") && (!GetSeconds(j, "interval", &out->interval) || out->interval <= 0))
    return Status::TempFail("device authorization: interval is not a positive number of seconds");
  out->user_code = Printable(out->user_code);
  out->verification_uri = Printable(out->verification_uri);
  out->verification_uri_complete = Printable(out->verification_uri_complete);
  return Status::Ok();
}

DevicePoll::DevicePoll(const DeviceAuthorization& da)
    : interval_(da.interval > 0 ? da.interval : 5), expires_in_(da.expires_in) {}

DevicePoll::Step DevicePoll::OnAnswer(long http_status, std::string_view body, TokenResponse* tokens) {
  waited_ += interval_;  // the caller waited interval_ before this poll
  if (http_status == 200) {
    status_ = ParseTokenResponse(http_status, body, tokens);
    return status_.ok() ? Step::kDone : Step::kFailed;
  }
  OAuthError e = ParseOAuthError(body);
  if (e.code == "authorization_pending" || e.code == "slow_down") {
    if (e.code == "slow_down") interval_ += 5;  // RFC 8628 3.5: for this and every later poll
    if (waited_ + interval_ <= expires_in_) return Step::kWait;
    status_ = Status::TempFail("the code expired before the login was approved: run relayctl oauth login again");
    return Step::kFailed;
  }
  if (e.code == "expired_token") {
    status_ = Status::TempFail("the code expired before the login was approved: run relayctl oauth login again");
    return Step::kFailed;
  }
  if (e.code == "access_denied") {
    status_ = Status::NoPerm("the login was refused (access_denied) at the verification page");
    return Step::kFailed;
  }
  status_ = TokenError(http_status, body);
  return Step::kFailed;
}

}  // namespace relay
