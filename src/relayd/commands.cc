#include "relay/relayd/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relay {
namespace {

constexpr int64_t kMicros = 1000000;

// In the child, before exec: the descriptors and state it may have.
[[noreturn]] void ExecCommand(const std::string& command, int in) {
  // Never run a command as root: relayd drops to the relay user before
  // it starts anything, and this checks that it did.
  if (geteuid() == 0 || getuid() == 0) _exit(126);
  setpgid(0, 0);  // its own group: the timeout kills what it started too
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(in, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(126);
  // Nothing of relayd's reaches the command: not the listener's sockets,
  // not the signalfd, not a log file.
  if (close_range(3, ~0U, 0) != 0)
    for (int fd = 3; fd < 1024; ++fd) close(fd);
  if (chdir("/") != 0) _exit(126);
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
  execve("/bin/sh", const_cast<char* const*>(argv), const_cast<char* const*>(envp));
  _exit(127);
}

}  // namespace

void CommandRunner::Run(const std::string& what, const std::string& command, const std::string& payload,
                        int64_t timeout, int64_t now) {
  if (command.empty()) return;
  Job job{what, command, payload, timeout};
  if (running_.size() < kMaxRunning) {
    Start(job, now);
    return;
  }
  if (waiting_.size() >= kMaxWaiting) {
    log_->Warn(waiting_.front().what + ": too many waiting to run; dropped one: " + waiting_.front().payload);
    waiting_.pop_front();
  }
  waiting_.push_back(std::move(job));
}

void CommandRunner::Start(const Job& job, int64_t now) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    log_->Error(job.what + ": pipe: " + std::strerror(errno));
    return;
  }
  // The payload goes into the pipe now, whole: a few hundred bytes, far
  // below the pipe's 64 KiB. Non-blocking all the same: a payload that
  // did not fit is cut, never waited for.
  std::string data = job.payload + "\n";
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
  ssize_t w = write(fds[1], data.data(), data.size());
  close(fds[1]);
  if (w != static_cast<ssize_t>(data.size()))
    log_->Warn(job.what + ": its input was cut to " + std::to_string(w < 0 ? 0 : w) + " bytes");
  pid_t pid = fork();
  if (pid == 0) ExecCommand(job.command, fds[0]);
  close(fds[0]);
  if (pid < 0) {
    log_->Error(job.what + ": fork: " + std::strerror(errno));
    return;
  }
  setpgid(pid, pid);  // also here: no race with a kill before the child ran
  running_[pid] = {job.what, now + job.timeout * kMicros, false};
}

bool CommandRunner::Reaped(pid_t pid, int status, int64_t now) {
  auto it = running_.find(pid);
  if (it == running_.end()) return false;
  const Child& c = it->second;
  if (c.killed)
    log_->Warn(c.what + " (pid " + std::to_string(pid) + ") ran past alert_timeout; killed");
  else if (WIFSIGNALED(status))
    log_->Warn(c.what + " (pid " + std::to_string(pid) + ") ended by signal " + std::to_string(WTERMSIG(status)));
  else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    log_->Warn(c.what + " (pid " + std::to_string(pid) + ") exited with status " +
               std::to_string(WEXITSTATUS(status)));
  running_.erase(it);
  while (!waiting_.empty() && running_.size() < kMaxRunning) {
    Job next = std::move(waiting_.front());
    waiting_.pop_front();
    Start(next, now);
  }
  return true;
}

void CommandRunner::KillExpired(int64_t now) {
  for (auto& [pid, c] : running_) {
    if (c.killed || now < c.deadline) continue;
    kill(-pid, SIGKILL);
    c.killed = true;
  }
}

int64_t CommandRunner::NextDeadline() const {
  int64_t next = -1;
  for (const auto& [pid, c] : running_)
    if (!c.killed && (next < 0 || c.deadline < next)) next = c.deadline;
  return next;
}

void CommandRunner::KillAll() {
  for (auto& [pid, c] : running_) kill(-pid, SIGKILL);
}

}  // namespace relay
