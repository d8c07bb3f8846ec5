#include "relay/base/log.h"

#include "relay/base/strings.h"

#include <fcntl.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <ctime>

namespace relay {

Logger::Logger(const std::string& target, bool verbose, const char* ident)
    : verbose_(verbose), ident_(ident) {
  if (target == "syslog") {
    syslog_ = true;
    openlog(ident_, LOG_PID | LOG_NDELAY, LOG_MAIL);
  } else if (target == "stderr") {
    file_ = stderr;
  } else {
    // Created 0600 whatever the umask of whoever runs delivery: every
    // from/to pair is in it. (An existing file keeps its mode: the admin's
    // choice, e.g. 0640 for a log group.)
    int fd = open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    file_ = fd >= 0 ? fdopen(fd, "a") : nullptr;
    if (fd >= 0 && !file_) close(fd);
    owns_file_ = file_ != nullptr;
    if (!file_) file_ = stderr;
  }
}

Logger::~Logger() {
  if (owns_file_) fclose(file_);
  if (syslog_) closelog();
}

void Logger::Log(Level level, const std::string& raw) {
  // Text from the network or a queue file may reach any line: no control
  // character is ever written to the log or the terminal.
  std::string line = Printable(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (syslog_) {
    int pri = level == Level::kError ? LOG_ERR : level == Level::kWarning ? LOG_WARNING : LOG_INFO;
    syslog(pri, "%s", line.c_str());
    return;
  }
  // The syslog shape, so that log tools read a file the same way.
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
  fprintf(file_, "%s %s[%d]: %s\n", when, ident_, static_cast<int>(getpid()), line.c_str());
  fflush(file_);
}

}  // namespace relay
