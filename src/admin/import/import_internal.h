// What the files of relayctl import share, and nothing else includes:
// the text helpers, the Builder that makes the relay.conf, Postfix's
// main.cf reader (detection needs it too) and the parser of each peer.
//
// import.cc          the helpers, detection and the entry points
// import_builder.cc  the Builder
// import_command.cc  relayctl import (RunImportCommand)
// import_ssmtp.cc, import_nullmailer.cc, import_msmtp.cc, import_dma.cc,
// import_postfix.cc  one peer each
#ifndef RELAY_CORE_IMPORT_INTERNAL_H_
#define RELAY_CORE_IMPORT_INTERNAL_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/base/config.h"
#include "relay/admin/import.h"
#include "relay/base/status.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- helpers (import.cc)

std::vector<std::string_view> Lines(std::string_view text);
std::string BaseName(std::string_view path);
std::string DirName(std::string_view path);
bool IsYes(std::string_view v);
bool IsNo(std::string_view v);
std::string ToUpper(std::string_view s);
bool ParsePort(std::string_view s, unsigned* port);
// The port of a service name as Postfix and /etc/services know it.
bool ParseService(std::string_view s, unsigned* port);
// The first word of s, and the rest with its leading blanks removed.
std::pair<std::string_view, std::string_view> FirstWord(std::string_view s);
std::vector<std::string_view> Words(std::string_view s, std::string_view seps = " \t");
bool HasSettings(std::string_view text);
// "sha256:" and lower-case hex from a fingerprint written with or without
// colons; "" with *bits set to the digest size when it is not SHA-256.
std::string Sha256Pin(std::string_view fp, size_t* hex_digits);
const char* DigestName(size_t hex_digits);
bool IsLoopback(const std::string& host);
const std::string* FindFile(const ImportSource& src, const std::string& name);
// The text of the peer's main file (ssmtp.conf, msmtprc, dma.conf,
// main.cf); DataErr when it is missing or holds no settings.
Status MainFileText(const ImportSource& src, const std::string& name, const std::string** text);

// ---------------------------------------------------------------- builder (import_builder.cc)

// The relay.conf being made, with a comment naming where each line comes
// from. Every value is checked with relay's own parser before it is kept:
// a value relay would refuse becomes a warning, never a broken file.
class Builder {
 public:
  struct Hop {
    std::string host;
    unsigned port = 0;
    TlsMode tls = TlsMode::kStartTls;
    std::string from;
    std::string setting;
  };

  void Warn(const std::string& w);

  // Sets key (an earlier value is replaced; tls_fingerprint adds). Returns
  // false, with a warning naming `setting`, when relay refuses the value.
  bool Set(const std::string& key, const std::string& value, const std::string& from,
           const std::string& setting);

  bool Has(const std::string& key) const;

  bool AddHost(const std::string& host, unsigned port, TlsMode tls, const std::string& from,
               const std::string& setting);

  std::vector<Hop>& hops() { return hops_; }

  // The login: relay has one user and one secret for every smarthost.
  std::string auth_user, auth_from;
  std::string secret, secret_from;
  std::string password_command, password_command_from;
  // OAuth2 (issue 17): the provider preset the login goes to; set, the
  // token comes from relay's token store and no password is written.
  // oauth_next is the one line that says how to fill the store.
  std::string provider, provider_from, oauth_next;
  std::vector<std::string> alias_lines;

  Status Finish(const std::string& kind, const std::string& origin, const ImportOptions& opts,
                ImportResult* out);

  // A comment at the end of the file (for what relay does by default).
  void Note(const std::string& n) { notes_.push_back(n); }

 private:
  struct Entry {
    std::string key, value, from;
  };

  static std::string HopText(const Hop& h);
  static bool Valid(const std::string& key, const std::string& value, std::string* why);
  void FinishAuth(const ImportOptions& opts);
  bool FinishOAuth();
  void FinishRetries();

  std::vector<Hop> hops_;
  std::vector<Entry> entries_;
  std::vector<std::string> warnings_;
  std::vector<std::string> notes_;
};

// ---------------------------------------------------------------- Builder helpers (import.cc)

// The CA file or directory, unless it is the system store relay uses anyway.
void SetCaFile(Builder& b, const std::string& path, const std::string& from, const std::string& setting);
void SetCaDir(Builder& b, const std::string& path, const std::string& from, const std::string& setting);
void SetMechanism(Builder& b, std::string_view method, const std::string& from, const std::string& setting);
void CheckUnreadable(const ImportSource& src, Builder& b);
// The provider preset (relay.conf's provider) of a smarthost's host name:
// smtp.gmail.com -> gmail, ...; "" for any other host.
std::string ProviderForHost(std::string_view host);
// True for XOAUTH2 and OAUTHBEARER, in any case.
bool IsOAuthMechanism(std::string_view mechanism);

// ---------------------------------------------------------------- Postfix's main.cf (import.cc)

struct PostfixParam {
  std::string value;
  int line = 0;
};

class PostfixConf {
 public:
  explicit PostfixConf(const std::string& text);

  const PostfixParam* Get(const std::string& name) const;

  // The value with $name, ${name} and $(name) expanded; nullopt when a
  // name has no value that can be known here (myhostname unset, ...).
  std::optional<std::string> Expand(const std::string& value, int depth = 0) const;

  std::optional<std::string> Lookup(const std::string& name, int depth) const;

  std::map<std::string, PostfixParam> params;
  std::vector<int> bad_lines;
};

// ---------------------------------------------------------------- the peers

Status ImportSsmtp(const ImportSource& src, Builder& b);       // import_ssmtp.cc
Status ImportNullmailer(const ImportSource& src, Builder& b);  // import_nullmailer.cc
Status ImportMsmtp(const ImportSource& src, Builder& b);       // import_msmtp.cc
Status ImportDma(const ImportSource& src, Builder& b);         // import_dma.cc
Status ImportPostfix(const ImportSource& src, Builder& b);     // import_postfix.cc

}  // namespace relay::import_internal

#endif  // RELAY_CORE_IMPORT_INTERNAL_H_
