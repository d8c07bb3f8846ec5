#include "relay/deliver/token_store.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

namespace relay {
namespace {

using Json = nlohmann::json;

void WipeString(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

// The string fields of an entry, by their JSON key.
struct StringField {
  const char* key;
  std::string OAuthToken::*field;
};
constexpr StringField kStringFields[] = {
    {"provider", &OAuthToken::provider},
    {"kind", &OAuthToken::kind},
    {"client_id", &OAuthToken::client_id},
    {"client_secret", &OAuthToken::client_secret},
    {"tenant", &OAuthToken::tenant},
    {"token_endpoint", &OAuthToken::token_endpoint},
    {"scope", &OAuthToken::scope},
    {"refresh_token", &OAuthToken::refresh_token},
    {"access_token", &OAuthToken::access_token},
};
struct TimeField {
  const char* key;
  int64_t OAuthToken::*field;
};
constexpr TimeField kTimeFields[] = {
    {"access_expiry", &OAuthToken::access_expiry},
    {"refresh_token_issued", &OAuthToken::refresh_token_issued},
    {"last_refresh", &OAuthToken::last_refresh},
};

// One entry; the error names the entry and the key, never a value.
Status ParseEntry(const Json& j, const std::string& where, OAuthToken* t) {
  if (!j.is_object()) return Status::Config(where + " is not an object");
  for (const StringField& f : kStringFields) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string()) return Status::Config(where + "." + f.key + " is not a string");
    t->*f.field = it->get<std::string>();
  }
  for (const TimeField& f : kTimeFields) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return Status::Config(where + "." + f.key + " is not a number of seconds");
    t->*f.field = it->get<int64_t>();
  }
  if (t->kind != "refresh" && t->kind != "client_credentials")
    return Status::Config(where + ".kind must be \"refresh\" or \"client_credentials\"");
  return Status::Ok();
}

}  // namespace

void OAuthToken::Wipe() {
  WipeString(&client_secret);
  WipeString(&refresh_token);
  WipeString(&access_token);
}

const OAuthToken* TokenStore::Find(const std::string& key) const {
  std::string k = KeyFor(key);
  if (k.empty()) return nullptr;
  return &tokens.at(k);
}

std::string TokenStore::KeyFor(const std::string& key) const {
  if (tokens.count(key)) return key;
  if (tokens.count("default")) return "default";
  return "";
}

void TokenStore::Wipe() {
  for (auto& [key, t] : tokens) t.Wipe();
}

std::string TokenStorePath(const Config& cfg) {
  if (!cfg.oauth_token_file.empty()) return cfg.oauth_token_file;
  return cfg.spool_dir + "/state/oauth-tokens.json";
}

Status ParseTokenStore(std::string_view text, std::string_view name, TokenStore* out) {
  out->tokens.clear();
  // No exceptions escape, and the parser's message (which may quote the
  // text around the error, a token) is not shown: only its byte offset.
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Config(std::string(name) + ": not valid JSON");
  if (!j.is_object()) return Status::Config(std::string(name) + ": not a JSON object");
  auto v = j.find("version");
  if (v != j.end() && !(v->is_number_integer() && v->get<int64_t>() == 1))
    return Status::Config(std::string(name) + ": unknown version (this relay reads version 1)");
  auto toks = j.find("tokens");
  if (toks == j.end()) return Status::Ok();
  if (!toks->is_object()) return Status::Config(std::string(name) + ": \"tokens\" is not an object");
  for (auto it = toks->begin(); it != toks->end(); ++it) {
    OAuthToken t;
    Status s = ParseEntry(it.value(), std::string(name) + ": tokens." + it.key(), &t);
    if (!s.ok()) return s;
    out->tokens[it.key()] = std::move(t);
  }
  return Status::Ok();
}

std::string SerializeTokenStore(const TokenStore& store) {
  Json toks = Json::object();
  for (const auto& [key, t] : store.tokens) {
    Json e = Json::object();
    for (const StringField& f : kStringFields)
      if (!(t.*f.field).empty()) e[f.key] = t.*f.field;
    for (const TimeField& f : kTimeFields)
      if (t.*f.field != 0) e[f.key] = t.*f.field;
    toks[key] = std::move(e);
  }
  Json j = {{"version", 1}, {"tokens", std::move(toks)}};
  return j.dump(2) + "\n";
}

Status CheckTokenStoreFile(const std::string& path, uid_t owner) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0)
    return Status::FromErrno(errno, "oauth_token_file " + path);
  if (!S_ISREG(st.st_mode))
    return Status::Config("oauth_token_file " + path + " is not a regular file (a link or other kind is refused)");
  if (st.st_uid != owner)
    return Status::Config("oauth_token_file " + path + " belongs to uid " + std::to_string(st.st_uid) +
                          ", not to the spool's owner (uid " + std::to_string(owner) + "): run chown " +
                          std::to_string(owner) + " " + path);
  if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::Config("oauth_token_file " + path + " has mode " + mode +
                          " (it holds tokens, it must be 0600): run chmod 600 " + path);
  }
  return Status::Ok();
}

Status SpoolOwner(const Config& cfg, uid_t* owner) {
  struct stat st;
  if (stat(cfg.spool_dir.c_str(), &st) != 0) return Status::FromErrno(errno, "spool " + cfg.spool_dir);
  *owner = st.st_uid;
  return Status::Ok();
}

Status LoadTokenStore(const std::string& path, uid_t owner, TokenStore* out, bool* missing) {
  if (missing) *missing = false;
  out->tokens.clear();
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && missing) *missing = true;
    if (errno == ELOOP) return Status::Config("oauth_token_file " + path + " is a symbolic link (refused)");
    return Status::FromErrno(errno, "oauth_token_file " + path);
  }
  // Checked on the path once opened: the file read is the file checked
  // unless it was replaced in between, which only its owner can do.
  Status s = CheckTokenStoreFile(path, owner);
  std::string text;
  char buf[8192];
  ssize_t n;
  while (s.ok() && (n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::FromErrno(errno, "read " + path);
    else if (text.size() > (1 << 20)) s = Status::Config("oauth_token_file " + path + " is larger than 1 MiB");
    else text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (s.ok()) s = ParseTokenStore(text, "oauth_token_file " + path, out);
  WipeString(&text);
  std::fill(buf, buf + sizeof buf, '\0');
  return s;
}

Status SaveTokenStore(Env* env, const std::string& path, const TokenStore& store) {
  std::string text = SerializeTokenStore(store);
  Status s = env->WriteFileAtomic(path, text, 0600);
  WipeString(&text);
  return s;
}

TokenStoreLock::~TokenStoreLock() { Release(); }

Status TokenStoreLock::Acquire(const std::string& store_path, int timeout_ms) {
  Release();
  std::string lock = store_path + ".lock";
  fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::FromErrno(errno, "open " + lock);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // Polled, not a blocking flock with an alarm: a refresh holds the lock
  // for at most one HTTPS exchange, so a short poll costs nothing.
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      Status s = Status::FromErrno(errno, "flock " + lock);
      Release();
      return s;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      Release();
      return Status::TempFail("the token store is locked by another process (" + lock + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

void TokenStoreLock::Release() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace relay
