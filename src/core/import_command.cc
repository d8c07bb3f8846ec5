// relayctl import: the command, and the writing of its results (--write).
#include <pwd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "relay/config.h"
#include "relay/import.h"
#include "relay/spool.h"

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

int ImportUsage(const std::string& why) {
  if (!why.empty()) Err(why);
  std::fprintf(stderr, "usage: relayctl [-C FILE] import [--write] [--secret-file PATH] "
                       "[--from ssmtp|nullmailer|msmtp|dma|postfix] FILE|DIR\n");
  return EX_USAGE;
}

}  // namespace

int RunImportCommand(Env* env, const std::vector<std::string>& args, const std::string& config_path) {
  bool write = false;
  std::string secret_file = "/etc/relay/smarthost.secret";
  std::string input;
  ImportKind forced = ImportKind::kAuto;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--write") {
      write = true;
    } else if (a == "--secret-file" || a.rfind("--secret-file=", 0) == 0) {
      if (a == "--secret-file") {
        if (i + 1 >= args.size()) return ImportUsage("--secret-file needs a path");
        secret_file = args[++i];
      } else {
        secret_file = a.substr(14);
      }
    } else if (a == "--from" || a.rfind("--from=", 0) == 0) {
      std::string k;
      if (a == "--from") {
        if (i + 1 >= args.size()) return ImportUsage("--from needs ssmtp, nullmailer, msmtp, dma or postfix");
        k = args[++i];
      } else {
        k = a.substr(7);
      }
      if (!ParseImportKind(k, &forced)) return ImportUsage("--from " + k + ": use ssmtp, nullmailer, msmtp, dma or postfix");
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: relayctl [-C FILE] import [--write] [--secret-file PATH] "
                  "[--from ssmtp|nullmailer|msmtp|dma|postfix] FILE|DIR\n"
                  "See relayctl(8).\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return ImportUsage("unknown option " + a);
    } else if (input.empty()) {
      input = a;
    } else {
      return ImportUsage("one FILE or DIR only");
    }
  }
  if (input.empty()) return ImportUsage("");
  if (secret_file.empty() || secret_file[0] != '/') return ImportUsage("--secret-file must be an absolute path");

  ImportSource src;
  Status s = ReadImportSource(env, input, forced, &src);
  if (!s.ok()) {
    Err(s.message());
    return s.kind() == Status::Kind::kTempFail ? EX_NOINPUT : s.exit_code();
  }
  ImportOptions opts;
  opts.secret_file = secret_file;
  ImportResult r;
  s = ImportConfig(src, opts, &r);
  if (!s.ok()) {
    Err(input + ": " + s.message());
    return s.exit_code();
  }
  Config cfg;
  ParseConfig(r.relay_conf, "imported", &cfg);

  auto report = [&]() {
    if (!r.aliases.empty()) {
      Err("add to the aliases file (" + cfg.aliases + "):");
      std::fputs(r.aliases.c_str(), stderr);
    }
    for (const std::string& w : r.warnings) Err("warning: " + w);
  };

  if (!write) {
    std::fputs(r.relay_conf.c_str(), stdout);
    std::fflush(stdout);
    report();
    if (!r.secret.empty())
      Err("the password for " + cfg.auth_user + " would go to " + secret_file +
          " (mode 0600, owned by the relay user); it is not shown. --write writes it, and " + config_path);
    else
      Err("nothing written; run with --write to write " + config_path);
    return 0;
  }

  // Nothing is replaced: an existing file must already hold the same bytes.
  auto check = [&](const std::string& path, const std::string& data, bool* same) -> Status {
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
  };
  std::string secret_data = r.secret.empty() ? "" : r.secret + "\n";
  bool conf_same = false, secret_same = false;
  s = check(config_path, r.relay_conf, &conf_same);
  if (s.ok() && !secret_data.empty()) s = check(secret_file, secret_data, &secret_same);
  if (!s.ok()) {
    Err(s.message());
    return EX_CANTCREAT;
  }

  if (!secret_data.empty() && !secret_same) {
    // The relay user (the spool's owner) reads it; root while there is no spool.
    uid_t uid = 0;
    gid_t gid = 0;
    std::string owner = "root";
    struct stat st;
    std::string q = SpoolPaths(cfg.spool_dir).queue();
    if (::stat(q.c_str(), &st) == 0 || ::stat(cfg.spool_dir.c_str(), &st) == 0) {
      uid = st.st_uid;
      gid = st.st_gid;
      if (struct passwd* pw = ::getpwuid(uid)) {
        gid = pw->pw_gid;
        owner = pw->pw_name;
      } else {
        owner = std::to_string(uid);
      }
    }
    bool root = ::geteuid() == 0;
    std::string dir = DirName(secret_file);
    struct stat dst;
    if (::stat(dir.c_str(), &dst) != 0) {
      s = env->CreateDir(dir, 0755);
      if (!s.ok()) {
        Err(s.message());
        return EX_CANTCREAT;
      }
    }
    s = WriteNewFile(env, secret_file, secret_data, 0600, root, uid, gid);
    if (!s.ok()) {
      Err(s.message());
      return EX_CANTCREAT;
    }
    std::printf("wrote %s (the password for %s; mode 0600, owner %s)\n", secret_file.c_str(),
                cfg.auth_user.c_str(), root ? owner.c_str() : "you");
    if (!root && uid != ::geteuid())
      Err("warning: " + secret_file + " must belong to the relay user: run chown " + owner + " " + secret_file);
  } else if (secret_same) {
    std::printf("%s: unchanged (it already holds this password)\n", secret_file.c_str());
  }

  if (conf_same) {
    std::printf("%s: unchanged (it already holds this configuration)\n", config_path.c_str());
  } else {
    s = WriteNewFile(env, config_path, r.relay_conf, 0644, false, 0, 0);
    if (!s.ok()) {
      Err(s.message());
      return EX_CANTCREAT;
    }
    std::printf("wrote %s (mode 0644): %zu smarthost%s%s\n", config_path.c_str(), cfg.smarthosts.size(),
                cfg.smarthosts.size() == 1 ? "" : "s", cfg.auth_user.empty() ? "" : (", login as " + cfg.auth_user).c_str());
  }
  std::fflush(stdout);
  report();
  if (cfg.auth_user.size() && r.secret.empty() && cfg.auth_password_command.empty())
    Err("write the password to " + secret_file + " (mode 0600, owned by the relay user)");
  Err("next: relayctl check, then relayctl test ADDRESS");
  return 0;
}

}  // namespace relay
