// Logger: relayd's log, one line per event, to syslog (facility mail),
// stderr, or a file, as relay.conf's `log` says. Thread-safe. Text that came
// from the network must be made printable by the caller (Reply::Text does).
#ifndef RELAY_BASE_LOG_H_
#define RELAY_BASE_LOG_H_

#include <cstdio>
#include <mutex>
#include <string>

namespace relay {

class Logger {
 public:
  enum class Level { kInfo, kWarning, kError };
  // target: "syslog", "stderr" or an absolute file path. ident names the
  // program in each line ("relayd", "sendmail").
  explicit Logger(const std::string& target, bool verbose = false, const char* ident = "relayd");
  ~Logger();
  void Log(Level level, const std::string& line);
  void Info(const std::string& line) { Log(Level::kInfo, line); }
  void Warn(const std::string& line) { Log(Level::kWarning, "warning: " + line); }
  void Error(const std::string& line) { Log(Level::kError, "error: " + line); }
  // The SMTP transcript, only with -v.
  void Transcript(const std::string& line) {
    if (verbose_) Log(Level::kInfo, line);
  }
  bool verbose() const { return verbose_; }

 private:
  std::mutex mu_;
  bool syslog_ = false;
  FILE* file_ = nullptr;
  bool owns_file_ = false;
  bool verbose_;
  const char* ident_;
};

}  // namespace relay

#endif  // RELAY_BASE_LOG_H_
