#include "relay/base/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace relay {
namespace {

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Runs cmd through /bin/sh with an empty environment, in its own session,
// and takes its output up to the first newline or its exit, within
// timeout_ms; on timeout the whole process group is killed.
Status RunCommand(const std::string& cmd, int timeout_ms, std::string* out) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return Status::FromErrno(err, "fork");
  }
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    dup2(pipefd[1], 1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0);
    char path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
    char* envp[] = {path, nullptr};
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    execve("/bin/sh", const_cast<char* const*>(argv), envp);
    _exit(127);
  }
  close(pipefd[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  char buf[4096];
  while (out->find('\n') == std::string::npos && out->size() < (1 << 20)) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count());
    struct pollfd p = {pipefd[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  bool have_line = out->find('\n') != std::string::npos;
  if (timed_out || have_line) kill(-pid, SIGKILL);  // helpers it left behind too
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return Status::TempFail("auth_password_command timed out");
  if (!have_line && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
    return Status::TempFail("auth_password_command failed (exit status " +
                            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  return Status::Ok();
}

}  // namespace

Status ExpandCredentialPath(const std::string& value, const char* credentials_directory,
                            std::string* path) {
  if (value.rfind("%d/", 0) != 0) {
    *path = value;
    return Status::Ok();
  }
  std::string dir = credentials_directory ? credentials_directory : "";
  std::string name = value.substr(3);
  if (dir.empty())
    return Status::Config("auth_password_file " + value +
                          ": $CREDENTIALS_DIRECTORY is not set: %d names a systemd credential, given to the "
                          "service with LoadCredential=" + name + ":FILE (relay.conf(5), CREDENTIALS)");
  if (dir.front() != '/')
    return Status::Config("auth_password_file " + value + ": $CREDENTIALS_DIRECTORY (" + dir +
                          ") is not an absolute path");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  *path = dir + "/" + name;
  return Status::Ok();
}

Status SecretFilePath(const Config& cfg, std::string* path) {
  return ExpandCredentialPath(cfg.auth_password_file, std::getenv("CREDENTIALS_DIRECTORY"), path);
}

Status CheckSecretFile(const std::string& path, const std::string& key) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::Config(key + " " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::Config(key + " " + path + " is not a regular file");
  // Run as the relay user (relayd, relay-deliver), the file must be its
  // own: a secret relayd cannot read would only show up as deferrals.
  if (geteuid() != 0 && st.st_uid != geteuid())
    return Status::Config(key + " " + path + " belongs to uid " + std::to_string(st.st_uid) +
                          ", not to the relay user (uid " + std::to_string(geteuid()) + "): run chown " +
                          std::to_string(geteuid()) + " " + path);
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::Config(key + " " + path + " has mode " + mode + ": others could read it; run: chmod 600 " +
                          path);
  }
  return Status::Ok();
}

Status CheckConfiguredSecret(const Config& cfg) {
  if (cfg.auth_password_file.empty()) return Status::Ok();
  std::string path;
  Status s = SecretFilePath(cfg, &path);
  if (s.ok()) s = CheckSecretFile(path);
  return s;
}

Status LoadSecret(const Config& cfg, std::string* secret) {
  secret->clear();
  if (!cfg.auth_password_command.empty()) {
    std::string out;
    Status s = RunCommand(cfg.auth_password_command, static_cast<int>(cfg.timeout_command * 1000), &out);
    if (!s.ok()) return s;
    *secret = FirstLine(out);
    std::fill(out.begin(), out.end(), '\0');
    if (secret->empty()) return Status::TempFail("auth_password_command printed no secret");
    return Status::Ok();
  }
  std::string path;
  Status s = SecretFilePath(cfg, &path);
  if (s.ok()) s = CheckSecretFile(path);
  if (!s.ok()) return Status::TempFail(s.message());
  std::string text;
  s = Env::Default()->ReadFile(path, &text, nullptr);
  if (!s.ok()) return s;
  *secret = FirstLine(text);
  std::fill(text.begin(), text.end(), '\0');
  return Status::Ok();
}

}  // namespace relay
