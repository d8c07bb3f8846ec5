// The token files of other OAuth2 helpers; see oauth_import.h.
#include "relay/admin/oauth_import.h"

#include <nlohmann/json.hpp>

#include "relay/base/strings.h"

namespace relay {

const char* TokenFileFormatName(TokenFileFormat f) {
  switch (f) {
    case TokenFileFormat::kSaslXoauth2: return "sasl-xoauth2";
    case TokenFileFormat::kMuttOauth2: return "mutt_oauth2";
    case TokenFileFormat::kOama: return "oama";
  }
  return "?";
}

bool ParseTokenFileFormat(std::string_view name, TokenFileFormat* out) {
  for (TokenFileFormat f : {TokenFileFormat::kSaslXoauth2, TokenFileFormat::kMuttOauth2, TokenFileFormat::kOama}) {
    if (name == TokenFileFormatName(f)) {
      *out = f;
      return true;
    }
  }
  if (name == "mutt_oauth2.py") {
    *out = TokenFileFormat::kMuttOauth2;
    return true;
  }
  return false;
}

bool LooksGpgEncrypted(std::string_view text) {
  if (Trim(text).rfind("-----BEGIN PGP MESSAGE-----", 0) == 0) return true;
  if (text.empty()) return false;
  // An OpenPGP packet's first octet has bit 7 set (RFC 4880 4.2); JSON
  // text starts with ASCII, or with the UTF-8 BOM.
  auto c0 = static_cast<unsigned char>(text[0]);
  return (c0 & 0x80) != 0 && text.rfind("\xEF\xBB\xBF", 0) != 0;
}

bool ProviderOfTokenEndpoint(std::string_view endpoint, std::string* provider, std::string* tenant) {
  tenant->clear();
  for (std::string_view google : {"https://oauth2.googleapis.com/", "https://accounts.google.com/",
                                  "https://www.googleapis.com/oauth2/"}) {
    if (endpoint.rfind(google, 0) == 0) {
      *provider = "gmail";
      return true;
    }
  }
  constexpr std::string_view kMicrosoft = "https://login.microsoftonline.com/";
  if (endpoint.rfind(kMicrosoft, 0) != 0) return false;
  std::string_view rest = endpoint.substr(kMicrosoft.size());
  size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return false;
  *tenant = std::string(rest.substr(0, slash));
  *provider = *tenant == "consumers" ? "outlook" : "microsoft365";
  return true;
}

namespace {

using nlohmann::json;

// A string field: false with *s set when present but not a string.
bool StringField(const json& j, const char* key, std::string* out, Status* s, std::string_view name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *s = Status::DataErr(std::string(name) + ": \"" + key + "\" is not a string");
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// Whole seconds, written as a number or as a string of digits.
bool SecondsField(const json& j, const char* key, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return *out >= 0;
  }
  if (it->is_number_float()) {
    *out = static_cast<int64_t>(it->get<double>());
    return *out >= 0;
  }
  if (!it->is_string()) return false;
  std::string v = it->get<std::string>();
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoll(v);
  return true;
}

Status ParseObject(std::string_view text, std::string_view name, TokenFileFormat format, json* out) {
  if (LooksGpgEncrypted(text))
    return Status::DataErr(std::string(name) + " is GPG-encrypted; relay decrypts nothing: run gpg --decrypt " +
                           std::string(name) + " | relayctl oauth import --format " + TokenFileFormatName(format) +
                           " -");
  *out = json::parse(text, nullptr, false);
  if (!out->is_object()) return Status::DataErr(std::string(name) + " is not a JSON object (is it a " +
                                                TokenFileFormatName(format) + " token file?)");
  return Status::Ok();
}

// The strings every format shares; s says which one had the wrong type.
Status CommonFields(const json& j, std::string_view name, ImportedToken* t) {
  Status s;
  for (auto [key, field] : {std::pair{"refresh_token", &t->refresh_token}, std::pair{"access_token", &t->access_token},
                            std::pair{"client_id", &t->client_id}, std::pair{"client_secret", &t->client_secret},
                            std::pair{"token_endpoint", &t->token_endpoint}, std::pair{"scope", &t->scope},
                            std::pair{"email", &t->email}, std::pair{"tenant", &t->tenant}})
    if (!StringField(j, key, field, &s, name)) return s;
  if (t->refresh_token.empty())
    return Status::DataErr(std::string(name) + " holds no refresh_token: nothing relay could keep alive; "
                           "log in with relayctl oauth login instead");
  return Status::Ok();
}

void ProviderFromEndpoint(ImportedToken* t) {
  if (t->token_endpoint.empty()) return;
  std::string provider, tenant;
  if (ProviderOfTokenEndpoint(t->token_endpoint, &provider, &tenant)) {
    t->provider = provider;
    if (!tenant.empty()) t->tenant = tenant;
  }
}

Status SaslXoauth2(const json& j, std::string_view name, ImportedToken* t) {
  if (!SecondsField(j, "expiry", &t->access_expiry))
    return Status::DataErr(std::string(name) + ": \"expiry\" is not a number of seconds since 1970");
  ProviderFromEndpoint(t);
  return Status::Ok();
}

// mutt_oauth2.py's registration names, as relay's providers.
Status MuttOauth2(const json& j, std::string_view name, ImportedToken* t) {
  std::string reg;
  Status s;
  if (!StringField(j, "registration", &reg, &s, name)) return s;
  if (reg == "google") t->provider = "gmail";
  else if (reg == "microsoft") t->provider = t->tenant == "consumers" ? "outlook" : "microsoft365";
  else if (!reg.empty())
    t->notes.push_back(std::string(name) + ": registration '" + Printable(reg) +
                       "' is not Google's or Microsoft's: give --provider or the token endpoint");
  if (t->provider == "microsoft365" && t->tenant.empty()) t->tenant = "common";  // the script's default
  // access_token_expiration is local time without a zone: not carried over.
  t->access_expiry = 0;
  if (t->client_id.empty())
    t->notes.push_back(std::string(name) + ": no client_id (older mutt_oauth2.py keeps it in the script's "
                       "registrations): give --client-id, the one the token was made with");
  return Status::Ok();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// oama's exp_date, "%Y-%m-%d %H:%M %Z"; only a UTC one is understood
// (oama writes UTC), anything else gives 0 (refresh at first use).
int64_t OamaExpiry(const std::string& v) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  char zone[8] = {0};
  if (sscanf(v.c_str(), "%4d-%2d-%2d %2d:%2d %7s", &y, &mo, &d, &h, &mi, zone) != 6) return 0;
  if (std::string(zone) != "UTC" && std::string(zone) != "GMT") return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || y < 1970) return 0;
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

Status Oama(const json& j, std::string_view name, ImportedToken* t) {
  std::string service, exp;
  Status s;
  if (!StringField(j, "service", &service, &s, name) || !StringField(j, "exp_date", &exp, &s, name)) return s;
  if (service == "google") t->provider = "gmail";
  else if (service == "microsoft") t->provider = "microsoft365";
  else if (!service.empty())
    t->notes.push_back(std::string(name) + ": oama service '" + Printable(service) +
                       "' is not google or microsoft: give --provider");
  t->access_expiry = OamaExpiry(exp);
  t->notes.push_back(std::string(name) + ": oama keeps the client id and secret in its config.yaml, not "
                     "here: give --client-id (and --client-secret-file) as they are there");
  return Status::Ok();
}

}  // namespace

Status ParseTokenFile(TokenFileFormat format, std::string_view text, std::string_view name, ImportedToken* out) {
  *out = ImportedToken{};
  json j;
  Status s = ParseObject(text, name, format, &j);
  if (!s.ok()) return s;
  s = CommonFields(j, name, out);
  if (!s.ok()) return s;
  switch (format) {
    case TokenFileFormat::kSaslXoauth2: return SaslXoauth2(j, name, out);
    case TokenFileFormat::kMuttOauth2: return MuttOauth2(j, name, out);
    case TokenFileFormat::kOama: return Oama(j, name, out);
  }
  return Status::Software("unknown token file format");
}

Status MergeSaslXoauth2Conf(std::string_view conf_text, std::string_view name, ImportedToken* token) {
  nlohmann::json j = nlohmann::json::parse(conf_text, nullptr, false);
  if (!j.is_object()) return Status::DataErr(std::string(name) + " is not a JSON object");
  ImportedToken conf;
  Status s;
  if (!StringField(j, "client_id", &conf.client_id, &s, name) ||
      !StringField(j, "client_secret", &conf.client_secret, &s, name) ||
      !StringField(j, "token_endpoint", &conf.token_endpoint, &s, name))
    return s;
  // The token file's own values win, as in sasl-xoauth2.
  if (token->client_id.empty()) token->client_id = conf.client_id;
  if (token->client_secret.empty()) token->client_secret = conf.client_secret;
  if (token->token_endpoint.empty()) {
    token->token_endpoint = conf.token_endpoint;
    ProviderFromEndpoint(token);
  }
  return Status::Ok();
}

}  // namespace relay
