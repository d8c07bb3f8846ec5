#include "relay/password_file.h"

#include <crypt.h>

#include <cstring>

#include "relay/credentials.h"
#include "relay/strings.h"

namespace relay {
namespace {

bool SameBytes(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  unsigned char diff = a.size() == n ? 0 : 1;
  for (size_t i = 0; i < a.size() && i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Status ParsePasswordFile(std::string_view text, std::map<std::string, std::string>* users) {
  users->clear();
  int lineno = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    size_t colon = t.find(':');
    std::string_view name = colon == std::string_view::npos ? "" : Trim(t.substr(0, colon));
    std::string_view hash = colon == std::string_view::npos ? "" : Trim(t.substr(colon + 1));
    // "$id$..." is the only form taken: old DES hashes are too weak, and
    // "*" or "!" (a locked account) is better written as no line at all.
    if (name.empty() || hash.size() < 4 || hash[0] != '$' || hash.find_first_of(" \t") != std::string_view::npos)
      return Status::Config("line " + std::to_string(lineno) + ": expected 'name:$id$...' (a crypt(3) hash)");
    (*users)[std::string(name)] = std::string(hash);
  }
  return Status::Ok();
}

Status PasswordFile::Load(Env* env, const std::string& path, std::unique_ptr<PasswordFile>* out) {
  Status s = CheckSecretFile(path, "listen_auth_users");
  if (!s.ok()) return s;
  std::string text;
  s = env->ReadFile(path, &text, nullptr);
  if (!s.ok()) return Status::Config("listen_auth_users: " + s.message());
  std::map<std::string, std::string> users;
  s = ParsePasswordFile(text, &users);
  std::fill(text.begin(), text.end(), '\0');
  if (!s.ok()) return Status::Config("listen_auth_users " + path + ": " + s.message());
  *out = std::make_unique<PasswordFile>(std::move(users));
  return Status::Ok();
}

PasswordFile::PasswordFile(std::map<std::string, std::string> users) : users_(std::move(users)) {
  // A hash made with a real user's method, salt and cost, for unknown
  // names: checking one costs what checking a real one does.
  if (users_.empty()) return;
  crypt_data data{};
  if (const char* h = crypt_r("relay: no such user", users_.begin()->second.c_str(), &data)) dummy_ = h;
}

bool PasswordFile::Check(const std::string& user, const std::string& password) {
  auto it = users_.find(user);
  const std::string& hash = it == users_.end() ? dummy_ : it->second;
  if (hash.empty()) return false;
  crypt_data data{};
  const char* got = crypt_r(password.c_str(), hash.c_str(), &data);
  // crypt_r fails with "*..." for a hash it does not know: never a match.
  bool match = got && got[0] != '*' && SameBytes(hash, got);
  explicit_bzero(&data, sizeof data);
  return match && it != users_.end();
}

}  // namespace relay
