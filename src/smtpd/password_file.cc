#include "relay/smtpd/password_file.h"

#include <crypt.h>

#include <cstring>

#include "relay/base/credentials.h"
#include "relay/base/strings.h"

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
    // A hash libcrypt cannot use (a typo, a disabled method) would lock
    // its user out without a word; said here instead, without hashing.
    int check = crypt_checksalt(std::string(hash).c_str());
    if (check != CRYPT_SALT_OK && check != CRYPT_SALT_METHOD_LEGACY && check != CRYPT_SALT_TOO_CHEAP)
      return Status::Config("line " + std::to_string(lineno) + ": libcrypt cannot use this hash (" +
                            std::string(hash.substr(0, hash.find('$', 1) + 1)) + "...)");
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
  for (const auto& [name, hash] : users_) hashes_.push_back(&hash);
}

bool PasswordFile::Check(const std::string& user, const std::string& password) {
  auto it = users_.find(user);
  if (it == users_.end() && hashes_.empty()) return false;
  // An unknown name is checked against the hash of a user chosen by the
  // name, and fails: it costs what that user's check costs, always the
  // same one for the same name, so timing does not tell a name that
  // exists from one that does not (even with several hash methods).
  const std::string& hash =
      it != users_.end() ? it->second : *hashes_[std::hash<std::string>()(user) % hashes_.size()];
  crypt_data data{};
  const char* got = crypt_r(password.c_str(), hash.c_str(), &data);
  // crypt_r fails with "*..." for a hash it does not know: never a match.
  bool match = got && got[0] != '*' && SameBytes(hash, got);
  explicit_bzero(&data, sizeof data);
  return match && it != users_.end();
}

}  // namespace relay
