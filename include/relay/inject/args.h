// The sendmail command line, parsed the way Postfix's sendmail(1) does:
// getopt-style with bundling ("-ti", "-oi", "-o i", "-fADDR", "-f ADDR"),
// stopping at the first non-option or at "--". argv[0]'s base name "mailq"
// or "newaliases" selects that mode. Pure: no I/O, no environment.
#ifndef RELAY_INJECT_ARGS_H_
#define RELAY_INJECT_ARGS_H_

#include <optional>
#include <string>
#include <vector>

#include "relay/base/status.h"

namespace relay {

enum class Mode {
  kDeliver,      // -bm, the default: read a message, queue it
  kListQueue,    // -bp, mailq
  kNewAliases,   // -bi, -I, newaliases
  kVerify,       // -bv
  kSmtp,         // -bs: SMTP on stdin/stdout
  kFlush,        // -q, -qR..., -qI..., -qS...
  kNoop,         // -q30m and the like: a daemon interval, nothing to do now
};

struct Options {
  Mode mode = Mode::kDeliver;
  bool extract_recipients = false;  // -t
  bool ignore_dots = false;         // -i, -oi
  bool queue_only = false;          // -odq
  bool verbose = false;             // -v
  std::optional<std::string> sender;     // -f / -r, raw; the last one wins
  std::optional<std::string> full_name;  // -F
  std::optional<std::string> config_path;  // -C
  std::string dsn_notify;  // -N, normalised: "NEVER" or e.g. "SUCCESS,FAILURE"
  std::string dsn_ret;     // -R: "FULL" or "HDRS"
  std::string envid;       // -V
  std::string body_type;   // -B: "7BIT" or "8BITMIME"
  // Recipient arguments as given (each may be an address list), and for
  // each whether it came after "--" (only then may it start with '-').
  std::vector<std::string> recipients;
  std::vector<bool> after_dashdash;
  // Problems that are warnings, not failures (a bad -N, -R, -V or -B value).
  std::vector<std::string> warnings;
};

// Parses argv (argv[0] included). Usage errors name the problem, e.g.
// "unknown option -s" or "option -f requires an argument".
Status ParseArgs(const std::vector<std::string>& argv, Options* opts);

}  // namespace relay

#endif  // RELAY_INJECT_ARGS_H_
