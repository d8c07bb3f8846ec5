// relayctl import: the command, and the writing of its results (--write).
#include <pwd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/admin/import.h"
#include "relay/queue/spool.h"

#include "import_internal.h"

namespace relay {

using namespace import_internal;

namespace {

// ---------------------------------------------------------------- edge helpers

// Writes data to path, which must not exist: a temporary file beside it,
// synced, given to uid:gid when chown is set, then renamed without replacing.
Status WriteNewFile(Env* env, const std::string& path, const std::string& data, mode_t mode, bool chown,
                    uid_t uid, gid_t gid) {
  std::string tmp = path + ".import.tmp";
  env->RemoveFile(tmp);  // a leftover from an interrupted run
  std::unique_ptr<WritableFile> f;
  bool exists = false;
  Status s = env->NewExclusiveFile(tmp, mode, &f, &exists);
  if (!s.ok()) return s;
  s = f->Append(data);
  if (s.ok()) s = f->Sync();
  Status c = f->Close();
  if (s.ok()) s = c;
  if (s.ok() && chown && ::chown(tmp.c_str(), uid, gid) != 0) s = Status::FromErrno(errno, "chown " + tmp);
  if (s.ok()) {
    s = env->RenameNoReplace(tmp, path, &exists);
    if (!s.ok() && exists) s = Status::TempFail(path + " appeared meanwhile: not overwritten");
  }
  if (s.ok()) s = env->SyncDir(DirName(path));
  if (!s.ok()) env->RemoveFile(tmp);
  return s;
}

void Err(const std::string& msg) { std::fprintf(stderr, "relayctl: %s\n", msg.c_str()); }

constexpr char kUsage[] =
    "usage: relayctl [-C FILE] import [--write] [--secret-file PATH] "
    "[--from ssmtp|nullmailer|msmtp|dma|postfix] FILE|DIR\n";

int ImportUsage(const std::string& why) {
  if (!why.empty()) Err(why);
  std::fputs(kUsage, stderr);
  return EX_USAGE;
}

// ---------------------------------------------------------------- the arguments

struct ImportArgs {
  bool write = false;
  std::string secret_file = "/etc/relay/smarthost.secret";
  std::string input;
  ImportKind forced = ImportKind::kAuto;
};

// Whether args[*i] is the option name, as "NAME VALUE" (*i then moves to
// VALUE) or "NAME=VALUE"; *missing when VALUE is not there.
bool IsOption(const std::vector<std::string>& args, size_t* i, const std::string& name, std::string* value,
              bool* missing) {
  const std::string& a = args[*i];
  if (a.rfind(name + "=", 0) == 0) {
    *value = a.substr(name.size() + 1);
    return true;
  }
  if (a != name) return false;
  *missing = *i + 1 >= args.size();
  if (!*missing) *value = args[++*i];
  return true;
}

// The exit code when the command ends here (a usage error, or --help).
std::optional<int> ParseImportArgs(const std::vector<std::string>& args, ImportArgs* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    bool missing = false;
    if (a == "--write") {
      out->write = true;
    } else if (IsOption(args, &i, "--secret-file", &value, &missing)) {
      if (missing) return ImportUsage("--secret-file needs a path");
      out->secret_file = value;
    } else if (IsOption(args, &i, "--from", &value, &missing)) {
      if (missing) return ImportUsage("--from needs ssmtp, nullmailer, msmtp, dma or postfix");
      if (!ParseImportKind(value, &out->forced))
        return ImportUsage("--from " + value + ": use ssmtp, nullmailer, msmtp, dma or postfix");
    } else if (a == "--help" || a == "-h") {
      std::printf("%sSee relayctl(8).\n", kUsage);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return ImportUsage("unknown option " + a);
    } else if (out->input.empty()) {
      out->input = a;
    } else {
      return ImportUsage("one FILE or DIR only");
    }
  }
  if (out->input.empty()) return ImportUsage("");
  if (out->secret_file.empty() || out->secret_file[0] != '/')
    return ImportUsage("--secret-file must be an absolute path");
  return std::nullopt;
}

// ---------------------------------------------------------------- the results

// After the results: the aliases to add, and the warnings.
void Report(const ImportResult& r, const Config& cfg) {
  if (!r.aliases.empty()) {
    Err("add to the aliases file (" + cfg.aliases + "):");
    std::fputs(r.aliases.c_str(), stderr);
  }
  for (const std::string& w : r.warnings) Err("warning: " + w);
}

// Without --write: relay.conf on stdout, and what --write would write.
int PrintImport(const ImportResult& r, const Config& cfg, const std::string& secret_file,
                const std::string& config_path) {
  std::fputs(r.relay_conf.c_str(), stdout);
  std::fflush(stdout);
  Report(r, cfg);
  if (!r.secret.empty())
    Err("the password for " + cfg.auth_user + " would go to " + secret_file +
        " (mode 0600, owned by the relay user); it is not shown. --write writes it, and " + config_path);
  else
    Err("nothing written; run with --write to write " + config_path);
  return 0;
}

// Nothing is replaced: an existing file must already hold the same bytes.
Status CheckSame(Env* env, const std::string& path, const std::string& data, bool* same) {
  std::string old;
  bool missing = false;
  *same = false;
  Status rs = env->ReadFile(path, &old, &missing);
  if (missing) return Status::Ok();
  if (!rs.ok()) return rs;
  if (old == data) {
    *same = true;
    return Status::Ok();
  }
  return Status::Config(path + " exists and differs: not overwritten (move it away, or merge by hand "
                        "from the output of relayctl import without --write)");
}

// The relay user (the spool's owner) reads the password; root while there
// is no spool.
void SecretOwner(const Config& cfg, uid_t* uid, gid_t* gid, std::string* owner) {
  struct stat st;
  std::string q = SpoolPaths(cfg.spool_dir).queue();
  if (::stat(q.c_str(), &st) != 0 && ::stat(cfg.spool_dir.c_str(), &st) != 0) return;
  *uid = st.st_uid;
  *gid = st.st_gid;
  if (struct passwd* pw = ::getpwuid(*uid)) {
    *gid = pw->pw_gid;
    *owner = pw->pw_name;
  } else {
    *owner = std::to_string(*uid);
  }
}

// The password file, mode 0600, in a directory made when it is missing.
Status WriteSecret(Env* env, const Config& cfg, const std::string& secret_file, const std::string& data) {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string owner = "root";
  SecretOwner(cfg, &uid, &gid, &owner);
  bool root = ::geteuid() == 0;
  std::string dir = DirName(secret_file);
  struct stat dst;
  if (::stat(dir.c_str(), &dst) != 0) {
    Status s = env->CreateDir(dir, 0755);
    if (!s.ok()) return s;
  }
  Status s = WriteNewFile(env, secret_file, data, 0600, root, uid, gid);
  if (!s.ok()) return s;
  std::printf("wrote %s (the password for %s; mode 0600, owner %s)\n", secret_file.c_str(),
              cfg.auth_user.c_str(), root ? owner.c_str() : "you");
  if (!root && uid != ::geteuid())
    Err("warning: " + secret_file + " must belong to the relay user: run chown " + owner + " " + secret_file);
  return Status::Ok();
}

Status WriteConf(Env* env, const ImportResult& r, const Config& cfg, const std::string& config_path, bool same) {
  if (same) {
    std::printf("%s: unchanged (it already holds this configuration)\n", config_path.c_str());
    return Status::Ok();
  }
  Status s = WriteNewFile(env, config_path, r.relay_conf, 0644, false, 0, 0);
  if (!s.ok()) return s;
  std::printf("wrote %s (mode 0644): %zu smarthost%s%s\n", config_path.c_str(), cfg.smarthosts.size(),
              cfg.smarthosts.size() == 1 ? "" : "s",
              cfg.auth_user.empty() ? "" : (", login as " + cfg.auth_user).c_str());
  return Status::Ok();
}

// --write: the password file, then relay.conf; neither when either one
// exists with other contents.
int WriteImport(Env* env, const ImportResult& r, const Config& cfg, const std::string& secret_file,
                const std::string& config_path) {
  std::string secret_data = r.secret.empty() ? "" : r.secret + "\n";
  bool conf_same = false, secret_same = false;
  Status s = CheckSame(env, config_path, r.relay_conf, &conf_same);
  if (s.ok() && !secret_data.empty()) s = CheckSame(env, secret_file, secret_data, &secret_same);
  if (s.ok() && !secret_data.empty() && !secret_same)
    s = WriteSecret(env, cfg, secret_file, secret_data);
  else if (s.ok() && secret_same)
    std::printf("%s: unchanged (it already holds this password)\n", secret_file.c_str());
  if (s.ok()) s = WriteConf(env, r, cfg, config_path, conf_same);
  if (!s.ok()) {
    Err(s.message());
    return EX_CANTCREAT;
  }
  std::fflush(stdout);
  Report(r, cfg);
  if (cfg.auth_user.size() && r.secret.empty() && cfg.auth_password_command.empty())
    Err("write the password to " + secret_file + " (mode 0600, owned by the relay user)");
  Err("next: relayctl check, then relayctl test ADDRESS");
  return 0;
}

}  // namespace

int RunImportCommand(Env* env, const std::vector<std::string>& args, const std::string& config_path) {
  ImportArgs a;
  if (std::optional<int> code = ParseImportArgs(args, &a)) return *code;
  ImportSource src;
  Status s = ReadImportSource(env, a.input, a.forced, &src);
  if (!s.ok()) {
    Err(s.message());
    return s.kind() == Status::Kind::kTempFail ? EX_NOINPUT : s.exit_code();
  }
  ImportOptions opts;
  opts.secret_file = a.secret_file;
  ImportResult r;
  s = ImportConfig(src, opts, &r);
  if (!s.ok()) {
    Err(a.input + ": " + s.message());
    return s.exit_code();
  }
  Config cfg;
  ParseConfig(r.relay_conf, "imported", &cfg);
  if (!a.write) return PrintImport(r, cfg, a.secret_file, config_path);
  return WriteImport(env, r, cfg, a.secret_file, config_path);
}

}  // namespace relay
