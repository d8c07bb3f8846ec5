// relayctl import: turns the configuration of the null mailer relay
// replaces (ssmtp, nullmailer, msmtp, dma, or Postfix as a null client)
// into a relay.conf, the smarthost password for its own file, aliases
// lines, and one warning per setting that cannot be carried over.
//
// ImportConfig is pure: it sees only the texts of the peer's files, keyed
// by the name the peer gives them ("ssmtp.conf", "remotes", "main.cf",
// "sasl_passwd", ...). ReadImportSource and RunImportCommand are the edge:
// they read the files (through an Env) and write the results.
#ifndef RELAY_ADMIN_IMPORT_H_
#define RELAY_ADMIN_IMPORT_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/env.h"
#include "relay/base/status.h"

namespace relay {

enum class ImportKind { kAuto, kSsmtp, kNullmailer, kMsmtp, kDma, kPostfix };

const char* ImportKindName(ImportKind kind);  // "ssmtp", ..., "auto"
bool ParseImportKind(std::string_view name, ImportKind* kind);

struct ImportSource {
  ImportKind kind = ImportKind::kAuto;  // kAuto: found from the file names
  // The peer's files by base name: ssmtp.conf, revaliases; remotes,
  // adminaddr, defaultdomain, defaulthost, me, helohost, ...; msmtprc;
  // dma.conf and the AUTHPATH file (auth.conf); main.cf and the source of
  // smtp_sasl_password_maps (sasl_passwd).
  std::map<std::string, std::string> files;
  // Files that exist but could not be read: base name -> why.
  std::map<std::string, std::string> unreadable;
  std::string origin;  // where they came from, for the header comment
};

struct ImportOptions {
  // Where the password will live; relay.conf names it.
  std::string secret_file = "/etc/relay/smarthost.secret";
};

struct ImportResult {
  std::string relay_conf;             // parses with ParseConfig
  std::string secret;                 // the smarthost password; may be empty
  std::vector<std::string> warnings;  // "setting: why", one per setting
  std::string aliases;                // aliases(5) lines; may be empty
};

// The peer a set of files belongs to, from the file names first and then
// from their content; kAuto when nothing fits.
ImportKind DetectImportKind(const ImportSource& src);

// Further files the main file names and the peer would read (dma's
// AUTHPATH, Postfix's smtp_sasl_password_maps), as absolute paths; the
// edge reads each into src.files under its base name.
std::vector<std::string> ImportCompanionFiles(const ImportSource& src);

// Converts. Fails (DataErr) when the input is empty or names no relay host.
Status ImportConfig(const ImportSource& src, const ImportOptions& opts, ImportResult* out);

// Reads a peer's directory (/etc/ssmtp, /etc/nullmailer, /etc/dma,
// /etc/postfix, ...) or main file (ssmtp.conf, msmtprc, dma.conf,
// main.cf, nullmailer's remotes) with the files beside it that the peer
// reads. forced may be kAuto. A missing or unreadable main file fails.
Status ReadImportSource(Env* env, const std::string& path, ImportKind forced, ImportSource* src);

// relayctl import [--write] [--secret-file PATH] [--from KIND] FILE|DIR.
// config_path is where --write puts relay.conf (relayctl's -C).
// Returns the exit code.
int RunImportCommand(Env* env, const std::vector<std::string>& args, const std::string& config_path);

}  // namespace relay

#endif  // RELAY_ADMIN_IMPORT_H_
