#include "relay/deliver/oauth_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "relay/base/strings.h"

namespace relay {

const char kOAuthFixCommand[] = "relayctl oauth login";

namespace {

using Json = nlohmann::json;

void Wipe(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

// Text from the network, printable and short, for a log line.
std::string Quote(std::string_view s) {
  std::string p = Printable(s.substr(0, 200));
  return p;
}

std::string JsonString(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// An error answer (RFC 6749 5.2) -> what the user must do.
Status ErrorAnswer(long http_status, const Json& j) {
  std::string err = JsonString(j, "error");
  std::string desc = JsonString(j, "error_description");
  std::string said = "token endpoint: " + (err.empty() ? "HTTP " + std::to_string(http_status) : Quote(err)) +
                     (desc.empty() ? "" : " (" + Quote(desc) + ")");
  if (err == "invalid_grant")
    return Status::TempFail(said + ": the refresh token is no longer accepted (revoked, expired or "
                            "already used); the mail waits: run " + std::string(kOAuthFixCommand) +
                            " to sign in again");
  if (err == "invalid_client" || err == "unauthorized_client")
    return Status::TempFail(said + ": the client id or secret was refused; the mail waits: check the "
                            "client in the token store and run " + std::string(kOAuthFixCommand));
  if (err == "invalid_scope")
    return Status::TempFail(said + ": the scope was refused; the mail waits: check oauth_scope and run " +
                            std::string(kOAuthFixCommand));
  if (http_status >= 500 || http_status == 429 || err == "temporarily_unavailable")
    return Status::TempFail(said + ": the provider is unavailable; the mail waits and is retried");
  return Status::TempFail(said + ": the mail waits; if this persists run " + std::string(kOAuthFixCommand));
}

}  // namespace

bool NeedsRefresh(const OAuthToken& t, int64_t now, int64_t ahead) {
  if (t.access_token.empty() || t.access_expiry == 0) return true;
  return t.access_expiry - now <= ahead;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
          out += static_cast<char>(c);
        } else if (c == ' ') {
          out += '+';
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      if (s == &k) out += '=';
    }
  }
  return out;
}

Status BuildTokenRequest(const OAuthToken& t, const std::string& scope, std::string* body) {
  if (t.client_id.empty())
    return Status::Config("the token store has no client_id: run " + std::string(kOAuthFixCommand));
  std::vector<std::pair<std::string, std::string>> f;
  if (t.kind == "client_credentials") {
    if (t.client_secret.empty())
      return Status::Config("client_credentials needs a client_secret in the token store: run " +
                            std::string(kOAuthFixCommand));
    f = {{"grant_type", "client_credentials"}};
  } else {
    if (t.refresh_token.empty())
      return Status::Config("the token store has no refresh token: run " + std::string(kOAuthFixCommand));
    f = {{"grant_type", "refresh_token"}, {"refresh_token", t.refresh_token}};
  }
  f.emplace_back("client_id", t.client_id);
  if (!t.client_secret.empty()) f.emplace_back("client_secret", t.client_secret);
  if (!scope.empty()) f.emplace_back("scope", scope);
  *body = FormEncode(f);
  for (auto& [k, v] : f) Wipe(&v);
  return Status::Ok();
}

void TokenGrant::Wipe() {
  relay::Wipe(&access_token);
  relay::Wipe(&refresh_token);
}

Status ReadTokenResponse(long http_status, std::string_view body, const std::string& transport_error,
                         TokenGrant* out) {
  *out = TokenGrant();
  if (http_status == 0)
    return Status::TempFail("token endpoint unreachable (" + Quote(transport_error) +
                            "); the mail waits and is retried");
  Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (http_status != 200) {
    if (j.is_discarded() || !j.is_object()) j = Json::object();
    return ErrorAnswer(http_status, j);
  }
  if (j.is_discarded() || !j.is_object())
    return Status::TempFail("token endpoint: HTTP 200 without a JSON object; the mail waits");
  std::string type = ToLower(JsonString(j, "token_type"));
  out->access_token = JsonString(j, "access_token");
  out->refresh_token = JsonString(j, "refresh_token");
  auto exp = j.find("expires_in");
  // Some endpoints send expires_in as a string ("3599").
  if (exp != j.end() && exp->is_number_integer()) out->expires_in = exp->get<int64_t>();
  else if (exp != j.end() && exp->is_string()) out->expires_in = std::atoll(exp->get<std::string>().c_str());
  if (out->access_token.empty() || (type != "bearer" && !type.empty())) {
    out->Wipe();
    return Status::TempFail("token endpoint: the answer has no bearer access_token; the mail waits");
  }
  if (out->expires_in <= 0) out->expires_in = 3600;  // RFC 6749 5.1: RECOMMENDED, so may be missing
  return Status::Ok();
}

void ApplyGrant(const TokenGrant& g, int64_t now, OAuthToken* t) {
  t->access_token = g.access_token;
  t->access_expiry = now + g.expires_in;
  t->last_refresh = now;
  if (!g.refresh_token.empty() && g.refresh_token != t->refresh_token) {
    std::fill(t->refresh_token.begin(), t->refresh_token.end(), '\0');
    t->refresh_token = g.refresh_token;
    t->refresh_token_issued = now;
  }
  if (t->refresh_token_issued == 0 && !t->refresh_token.empty()) t->refresh_token_issued = now;
}

}  // namespace relay
