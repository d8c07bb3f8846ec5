// relayctl import: the helpers its files share, detection, the Postfix
// main.cf reader, and the entry points but RunImportCommand (in
// import_command.cc). Each peer has its own file: import_ssmtp.cc, ...
#include "relay/admin/import.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

#include "relay/base/config.h"
#include "relay/base/strings.h"

#include "import_internal.h"

namespace relay {
namespace import_internal {
namespace {

// What every peer means by "the system's certificate authorities".
constexpr std::string_view kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::string_view kSystemCaDir = "/etc/ssl/certs";

}  // namespace

// ---------------------------------------------------------------- helpers

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out = Split(text, '\n');
  for (std::string_view& l : out)
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return out;
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t s = path.rfind('/');
  return std::string(s == std::string_view::npos ? path : path.substr(s + 1));
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t s = path.rfind('/');
  if (s == std::string_view::npos) return ".";
  if (s == 0) return "/";
  return std::string(path.substr(0, s));
}

bool IsYes(std::string_view v) {
  return EqualsIgnoreCase(v, "yes") || EqualsIgnoreCase(v, "on") || EqualsIgnoreCase(v, "true") || v == "1";
}

bool IsNo(std::string_view v) {
  return EqualsIgnoreCase(v, "no") || EqualsIgnoreCase(v, "off") || EqualsIgnoreCase(v, "false") || v == "0";
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ParsePort(std::string_view s, unsigned* port) {
  unsigned v = 0;
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  *port = v;
  return true;
}

// The port of a service name as Postfix and /etc/services know it.
bool ParseService(std::string_view s, unsigned* port) {
  if (ParsePort(s, port)) return true;
  if (s == "smtp") *port = 25;
  else if (s == "submission") *port = 587;
  else if (s == "smtps" || s == "submissions" || s == "ssmtp") *port = 465;
  else return false;
  return true;
}

// The first word of s, and the rest with its leading blanks removed.
std::pair<std::string_view, std::string_view> FirstWord(std::string_view s) {
  s = Trim(s);
  size_t sp = s.find_first_of(" \t");
  if (sp == std::string_view::npos) return {s, {}};
  return {s.substr(0, sp), Trim(s.substr(sp))};
}

std::vector<std::string_view> Words(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t b = s.find_first_not_of(seps, i);
    if (b == std::string_view::npos) break;
    size_t e = s.find_first_of(seps, b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    i = e;
  }
  return out;
}

bool HasSettings(std::string_view text) {
  for (std::string_view l : Lines(text)) {
    std::string_view t = Trim(l);
    if (!t.empty() && t.front() != '#') return true;
  }
  return false;
}

// "sha256:" and lower-case hex from a fingerprint written with or without
// colons; "" with *bits set to the digest size when it is not SHA-256.
std::string Sha256Pin(std::string_view fp, size_t* hex_digits) {
  std::string hex;
  for (char c : fp)
    if (c != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool ok = !hex.empty() && std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  *hex_digits = ok ? hex.size() : 0;
  if (!ok || hex.size() != 64) return "";
  return "sha256:" + hex;
}

const char* DigestName(size_t hex_digits) {
  switch (hex_digits) {
    case 32: return "an MD5";
    case 40: return "a SHA-1";
    default: return "not a SHA-256";
  }
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

const std::string* FindFile(const ImportSource& src, const std::string& name) {
  auto it = src.files.find(name);
  return it == src.files.end() ? nullptr : &it->second;
}

Status MainFileText(const ImportSource& src, const std::string& name, const std::string** text) {
  *text = FindFile(src, name);
  if (!*text) return Status::DataErr("no " + name + " to import");
  if (!HasSettings(**text)) return Status::DataErr(name + " is empty: no settings to import");
  return Status::Ok();
}

// ---------------------------------------------------------------- builder helpers

// The CA file or directory, unless it is the system store relay uses anyway.
void SetCaFile(Builder& b, const std::string& path, const std::string& from, const std::string& setting) {
  if (path.empty() || path == kSystemCaFile || path == "system") return;
  b.Set("tls_ca_file", path, from, setting);
}

void SetCaDir(Builder& b, const std::string& path, const std::string& from, const std::string& setting) {
  if (path.empty() || path == kSystemCaDir || path == std::string(kSystemCaDir) + "/") return;
  b.Set("tls_ca_dir", path, from, setting);
}

void SetMechanism(Builder& b, std::string_view method, const std::string& from, const std::string& setting) {
  std::string m = ToUpper(method);
  if (m == "EXTERNAL") {
    b.Warn(setting + ": EXTERNAL (login by client certificate) is not supported by relay; set "
           "tls_cert_file and tls_key_file and no auth_user instead");
    return;
  }
  b.Set("auth_mechanisms", m, from, setting);
}

std::string ProviderForHost(std::string_view host) {
  struct Known {
    const char* host;
    const char* provider;
  };
  for (Known k : {Known{"smtp.gmail.com", "gmail"}, Known{"smtp-relay.gmail.com", "google-workspace-relay"},
                  Known{"smtp.office365.com", "microsoft365"}, Known{"smtp-mail.outlook.com", "outlook"}})
    if (EqualsIgnoreCase(host, k.host)) return k.provider;
  return "";
}

bool IsOAuthMechanism(std::string_view mechanism) {
  return EqualsIgnoreCase(mechanism, "XOAUTH2") || EqualsIgnoreCase(mechanism, "OAUTHBEARER");
}

void CheckUnreadable(const ImportSource& src, Builder& b) {
  for (const auto& [name, why] : src.unreadable)
    b.Warn(name + ": could not be read (" + why + "); run relayctl import as root to carry it over");
}

// ---------------------------------------------------------------- Postfix's main.cf

PostfixConf::PostfixConf(const std::string& text) {
  int n = 0;
  std::string* cur = nullptr;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    if (raw.front() == ' ' || raw.front() == '\t') {
      if (cur) *cur += (cur->empty() ? "" : " ") + std::string(t);
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string_view::npos) {
      bad_lines.push_back(n);
      cur = nullptr;
      continue;
    }
    std::string name(Trim(t.substr(0, eq)));
    params[name] = {std::string(Trim(t.substr(eq + 1))), n};
    cur = &params[name].value;
  }
}

const PostfixParam* PostfixConf::Get(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? nullptr : &it->second;
}

std::optional<std::string> PostfixConf::Expand(const std::string& value, int depth) const {
  if (depth > 20) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out += value[i];
      continue;
    }
    std::string name;
    char c = value[i + 1];
    if (c == '{' || c == '(') {
      char close = c == '{' ? '}' : ')';
      size_t e = value.find(close, i + 2);
      if (e == std::string::npos) return std::nullopt;
      name = value.substr(i + 2, e - i - 2);
      i = e;
    } else if (c == '$') {
      out += '$';
      ++i;
      continue;
    } else {
      size_t e = i + 1;
      while (e < value.size() && (std::isalnum(static_cast<unsigned char>(value[e])) || value[e] == '_')) ++e;
      name = value.substr(i + 1, e - i - 1);
      i = e - 1;
    }
    // ${name?text} and ${name:text}: text when name is (or is not) set.
    size_t q = name.find_first_of("?:");
    if (q != std::string::npos) {
      std::string base = name.substr(0, q), text = name.substr(q + 1);
      std::optional<std::string> v = Lookup(base, depth);
      bool set = v && !v->empty();
      if ((name[q] == '?') == set) {
        std::optional<std::string> t = Expand(text, depth + 1);
        if (!t) return std::nullopt;
        out += *t;
      }
      continue;
    }
    std::optional<std::string> v = Lookup(name, depth);
    if (!v) return std::nullopt;
    out += *v;
  }
  return out;
}

std::optional<std::string> PostfixConf::Lookup(const std::string& name, int depth) const {
  if (const PostfixParam* p = Get(name)) return Expand(p->value, depth + 1);
  if (name == "mydomain") {
    std::optional<std::string> h = Lookup("myhostname", depth + 1);
    if (!h) return std::nullopt;
    size_t dot = h->find('.');
    if (dot == std::string::npos) return std::nullopt;
    return h->substr(dot + 1);
  }
  if (name == "myorigin") return Lookup("myhostname", depth + 1);
  if (name == "config_directory") return std::string("/etc/postfix");
  return std::nullopt;  // myhostname and others: this host's, unknown here
}

}  // namespace import_internal

using namespace import_internal;

namespace {

// ---------------------------------------------------------------- edge helpers

const char* MainFile(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return "ssmtp.conf";
    case ImportKind::kNullmailer: return "remotes";
    case ImportKind::kMsmtp: return "msmtprc";
    case ImportKind::kDma: return "dma.conf";
    case ImportKind::kPostfix: return "main.cf";
    case ImportKind::kAuto: break;
  }
  return "";
}

// The files beside the main one that the peer reads itself.
std::vector<std::string> SiblingFiles(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return {"revaliases"};
    case ImportKind::kNullmailer:
      return {"adminaddr", "defaultdomain", "defaulthost", "me", "helohost", "idhost", "allmailfrom",
              "pausetime", "maxpause", "sendtimeout", "queuelifetime"};
    default: return {};
  }
}

ImportKind KindFromName(const std::string& name) {
  if (name == "ssmtp.conf" || name == "revaliases") return ImportKind::kSsmtp;
  if (name == "remotes") return ImportKind::kNullmailer;
  if (name == "msmtprc" || name == ".msmtprc") return ImportKind::kMsmtp;
  if (name == "dma.conf") return ImportKind::kDma;
  if (name == "main.cf") return ImportKind::kPostfix;
  return ImportKind::kAuto;
}

ImportKind KindFromContent(const std::string& text) {
  for (std::string_view raw : Lines(text)) {
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    size_t eq = t.find('=');
    std::string_view before_eq = eq == std::string_view::npos ? t : Trim(t.substr(0, eq));
    if (EqualsIgnoreCase(before_eq, "mailhub")) return ImportKind::kSsmtp;
    if (before_eq == "relayhost") return ImportKind::kPostfix;
    auto [word, rest] = FirstWord(t);
    if (word == "SMARTHOST") return ImportKind::kDma;
    if (word == "account" || word == "defaults") return ImportKind::kMsmtp;
    std::vector<std::string_view> w = Words(t);
    if (w.size() >= 2 && (w[1] == "smtp" || w[1] == "qmqp")) return ImportKind::kNullmailer;
  }
  return ImportKind::kAuto;
}

void ReadOptional(Env* env, const std::string& path, const std::string& key, ImportSource* src) {
  if (src->files.count(key)) return;
  std::string text;
  bool missing = false;
  Status s = env->ReadFile(path, &text, &missing);
  if (s.ok()) src->files[key] = std::move(text);
  else if (!missing) src->unreadable[key] = s.message();
}

// The main file of a directory holding names: the first of the peers'
// main files there, unless *kind is forced.
Status ReadMainInDir(Env* env, const std::string& dir, std::vector<std::string> names, ImportKind* kind,
                     ImportSource* src) {
  std::sort(names.begin(), names.end());
  if (*kind == ImportKind::kAuto) {
    for (const char* main : {"ssmtp.conf", "remotes", "msmtprc", "dma.conf", "main.cf"})
      if (std::find(names.begin(), names.end(), main) != names.end()) {
        *kind = KindFromName(main);
        break;
      }
  }
  if (*kind == ImportKind::kAuto)
    return Status::DataErr(dir + ": no ssmtp.conf, remotes, msmtprc, dma.conf or main.cf in it "
                           "(name the peer with --from)");
  std::string main = MainFile(*kind);
  std::string text;
  Status s = env->ReadFile(dir + "/" + main, &text, nullptr);
  if (!s.ok()) return Status(s).Prefixed("cannot read the " + std::string(ImportKindName(*kind)) + " configuration");
  src->files[main] = std::move(text);
  return Status::Ok();
}

// A file given as the main one: the peer from its name, else from its
// content, unless *kind is forced. ls is why it could not be listed.
Status ReadMainFile(Env* env, const std::string& path, const Status& ls, ImportKind* kind, ImportSource* src) {
  std::string text;
  Status s = env->ReadFile(path, &text, nullptr);
  if (!s.ok()) {
    // A directory that cannot be listed reads as "Is a directory".
    if (s.message().find(std::strerror(EISDIR)) != std::string::npos) return ls.Prefixed("cannot read");
    return s.Prefixed("cannot read");
  }
  std::string dir = DirName(path);
  std::string name = BaseName(path);
  if (*kind == ImportKind::kAuto) *kind = KindFromName(name);
  if (*kind == ImportKind::kAuto) *kind = KindFromContent(text);
  if (*kind == ImportKind::kAuto)
    return Status::DataErr(path + ": not a configuration file of ssmtp, nullmailer, msmtp, dma or "
                           "Postfix (name the peer with --from)");
  // A file named otherwise (ssmtp.conf.orig, ~/.msmtprc) counts as the main one.
  std::string main = MainFile(*kind);
  if (name != main && KindFromName(name) == *kind && name != ".msmtprc") {
    // revaliases given: read ssmtp.conf beside it.
    src->files[name] = std::move(text);
    Status s2 = env->ReadFile(dir + "/" + main, &text, nullptr);
    if (!s2.ok()) return s2.Prefixed("cannot read the " + std::string(ImportKindName(*kind)) + " configuration");
  }
  src->files[main] = std::move(text);
  return Status::Ok();
}

}  // namespace

const char* ImportKindName(ImportKind kind) {
  switch (kind) {
    case ImportKind::kSsmtp: return "ssmtp";
    case ImportKind::kNullmailer: return "nullmailer";
    case ImportKind::kMsmtp: return "msmtp";
    case ImportKind::kDma: return "dma";
    case ImportKind::kPostfix: return "postfix";
    case ImportKind::kAuto: break;
  }
  return "auto";
}

bool ParseImportKind(std::string_view name, ImportKind* kind) {
  for (ImportKind k : {ImportKind::kSsmtp, ImportKind::kNullmailer, ImportKind::kMsmtp, ImportKind::kDma,
                       ImportKind::kPostfix}) {
    if (EqualsIgnoreCase(name, ImportKindName(k))) {
      *kind = k;
      return true;
    }
  }
  return false;
}

ImportKind DetectImportKind(const ImportSource& src) {
  if (src.kind != ImportKind::kAuto) return src.kind;
  for (const char* main : {"ssmtp.conf", "remotes", "msmtprc", "dma.conf", "main.cf"})
    if (src.files.count(main) || src.unreadable.count(main)) return KindFromName(main);
  for (const auto& [name, text] : src.files)
    if (ImportKind k = KindFromContent(text); k != ImportKind::kAuto) return k;
  return ImportKind::kAuto;
}

std::vector<std::string> ImportCompanionFiles(const ImportSource& src) {
  std::vector<std::string> out;
  ImportKind kind = DetectImportKind(src);
  if (kind == ImportKind::kDma) {
    if (const std::string* conf = FindFile(src, "dma.conf")) {
      for (std::string_view raw : Lines(*conf)) {
        std::string_view l = Trim(raw.substr(0, raw.find('#')));
        auto [word, value] = FirstWord(l);
        if (word == "AUTHPATH" && !value.empty()) out.emplace_back(value);
      }
    }
  } else if (kind == ImportKind::kPostfix) {
    if (const std::string* text = FindFile(src, "main.cf")) {
      PostfixConf pf(*text);
      if (const PostfixParam* p = pf.Get("smtp_sasl_password_maps")) {
        std::optional<std::string> v = pf.Expand(p->value);
        if (v) {
          std::vector<std::string_view> maps = Words(*v, " \t,");
          if (!maps.empty()) {
            std::string_view m = maps[0];
            size_t colon = m.find(':');
            std::string type(colon == std::string_view::npos ? "hash" : m.substr(0, colon));
            std::string path(colon == std::string_view::npos ? m : m.substr(colon + 1));
            if (type != "static" && !path.empty() && path.front() == '/') out.push_back(path);
          }
        }
      }
    }
  }
  return out;
}

Status ImportConfig(const ImportSource& src, const ImportOptions& opts, ImportResult* out) {
  *out = ImportResult();
  ImportKind kind = DetectImportKind(src);
  if (kind == ImportKind::kAuto) {
    if (src.files.empty() && src.unreadable.empty()) return Status::DataErr("no files to import");
    return Status::DataErr("not the configuration of ssmtp, nullmailer, msmtp, dma or Postfix "
                           "(no ssmtp.conf, remotes, msmtprc, dma.conf or main.cf): name it with --from");
  }
  const char* main = MainFile(kind);
  if (!src.files.count(main) && src.unreadable.count(main))
    return Status::DataErr(std::string(main) + " could not be read: " + src.unreadable.at(main));
  Builder b;
  CheckUnreadable(src, b);
  Status s;
  switch (kind) {
    case ImportKind::kSsmtp: s = ImportSsmtp(src, b); break;
    case ImportKind::kNullmailer: s = ImportNullmailer(src, b); break;
    case ImportKind::kMsmtp: s = ImportMsmtp(src, b); break;
    case ImportKind::kDma: s = ImportDma(src, b); break;
    case ImportKind::kPostfix: s = ImportPostfix(src, b); break;
    case ImportKind::kAuto: break;
  }
  if (!s.ok()) return s;
  return b.Finish(ImportKindName(kind), src.origin, opts, out);
}

Status ReadImportSource(Env* env, const std::string& path, ImportKind forced, ImportSource* src) {
  *src = ImportSource();
  src->kind = forced;
  src->origin = path;
  std::vector<std::string> names;
  ImportKind kind = forced;
  Status ls = env->ListDir(path, &names);
  Status s = ls.ok() ? ReadMainInDir(env, path, names, &kind, src) : ReadMainFile(env, path, ls, &kind, src);
  if (!s.ok()) return s;
  std::string dir = ls.ok() ? path : DirName(path);
  src->kind = kind;
  for (const std::string& sib : SiblingFiles(kind)) ReadOptional(env, dir + "/" + sib, sib, src);
  for (const std::string& p : ImportCompanionFiles(*src)) {
    std::string key = BaseName(p);
    ReadOptional(env, dir + "/" + key, key, src);  // beside the main file first
    if (!src->files.count(key) && !src->unreadable.count(key)) ReadOptional(env, p, key, src);
  }
  return Status::Ok();
}

}  // namespace relay
