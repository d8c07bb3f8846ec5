#include "relay/inject/args.h"

#include <string_view>

#include "relay/base/strings.h"

namespace relay {
namespace {

// Options that take an argument, attached ("-fADDR") or separate ("-f ADDR").
// Most are sendmail 8 or Postfix options with no meaning for a relay, kept so
// that programs which pass them keep working.
constexpr std::string_view kWithArgument = "ABCFLNORVXbefhopr";
// Options without an argument, accepted and mostly ignored.
constexpr std::string_view kFlags = "GIUcimntvx";

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void SetNotify(std::string_view v, Options* o) {
  std::string upper;
  bool never = false, ok = !v.empty();
  for (std::string_view item : Split(v, ',')) {
    std::string t = ToLower(Trim(item));
    if (t == "never") never = true;
    else if (t != "success" && t != "failure" && t != "delay") ok = false;
    if (!upper.empty()) upper += ',';
    for (char c : t) upper += static_cast<char>(c - 32 * (c >= 'a' && c <= 'z'));
  }
  if (!ok || (never && upper != "NEVER")) {
    o->warnings.push_back("ignoring bad -N value '" + Printable(v) +
                          "' (use never, or a list of success, failure, delay)");
    return;
  }
  o->dsn_notify = upper;
}

bool PrintableAscii(std::string_view v) {
  for (char c : v)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

Status ApplyBMode(std::string_view m, Options* o) {
  if (m == "m") o->mode = Mode::kDeliver;
  else if (m == "p") o->mode = Mode::kListQueue;
  else if (m == "i") o->mode = Mode::kNewAliases;
  else if (m == "v") o->mode = Mode::kVerify;
  else if (m == "s") o->mode = Mode::kSmtp;
  else if (m == "d" || m == "D") return Status::Usage("-b" + std::string(m) + ": relay runs no SMTP daemon from sendmail; use relayd");
  else if (m == "t") return Status::Usage("-bt: address test mode is not supported; use -bv");
  else return Status::Usage("unknown mode -b" + Printable(m));
  return Status::Ok();
}

// -q with what follows it attached.
void ApplyQueue(std::string_view v, Options* o) {
  // "-q30m", "-q1h": a daemon's run interval; there is nothing to do now.
  if (!v.empty() && v[0] >= '0' && v[0] <= '9') {
    o->mode = Mode::kNoop;
    return;
  }
  // "-q", "-qR...", "-qI...", "-qS...", "-qf": flush now. The selectors are
  // accepted; relay flushes the whole queue (see sendmail(8)).
  o->mode = Mode::kFlush;
}

Status ApplyWithArgument(char opt, const std::string& v, Options* o) {
  switch (opt) {
    case 'f':
    case 'r': o->sender = v; break;
    case 'F': o->full_name = v; break;
    case 'C': o->config_path = v; break;
    case 'b': return ApplyBMode(v, o);
    case 'N': SetNotify(v, o); break;
    case 'R': {
      std::string t = ToLower(v);
      if (t == "full" || t == "hdrs") o->dsn_ret = t == "full" ? "FULL" : "HDRS";
      else o->warnings.push_back("ignoring bad -R value '" + Printable(v) + "' (use full or hdrs)");
      break;
    }
    case 'V':
      if (!v.empty() && v.size() <= 100 && PrintableAscii(v)) o->envid = v;
      else o->warnings.push_back("ignoring bad -V value (1-100 printable ASCII characters)");
      break;
    case 'B': {
      std::string t = ToLower(v);
      if (t == "7bit") o->body_type = "7BIT";
      else if (t == "8bitmime") o->body_type = "8BITMIME";
      else o->warnings.push_back("ignoring bad -B value '" + Printable(v) + "' (use 7BIT or 8BITMIME)");
      break;
    }
    case 'o':
      if (v == "i") o->ignore_dots = true;
      else if (v == "dq") o->queue_only = true;
      // -oem, -oee, -odi, -odb, -oQ... and the rest have no meaning here.
      break;
    default: break;  // -A -L -O -X -e -h -p: accepted and ignored
  }
  return Status::Ok();
}

Status ApplyFlag(char opt, Options* o) {
  switch (opt) {
    case 't': o->extract_recipients = true; break;
    case 'i': o->ignore_dots = true; break;
    case 'v': o->verbose = true; break;
    case 'I': o->mode = Mode::kNewAliases; break;
    default: break;  // -G -U -c -m -n -x: accepted and ignored
  }
  return Status::Ok();
}

// Parses one option word (argv[i] without its leading '-'); may consume
// argv[i+1] as an argument.
Status ParseOptionWord(const std::vector<std::string>& argv, size_t* i, Options* o) {
  const std::string& word = argv[*i];
  for (size_t j = 1; j < word.size(); ++j) {
    char opt = word[j];
    if (opt == 'q') {
      ApplyQueue(std::string_view(word).substr(j + 1), o);
      return Status::Ok();
    }
    if (opt == 'd') return Status::Ok();  // -d<debug flags>: ignored
    if (kWithArgument.find(opt) != std::string_view::npos) {
      std::string value;
      if (j + 1 < word.size()) {
        value = word.substr(j + 1);
      } else if (*i + 1 < argv.size()) {
        value = argv[++*i];
      } else {
        return Status::Usage(std::string("option -") + opt + " requires an argument");
      }
      return ApplyWithArgument(opt, value, o);
    }
    if (kFlags.find(opt) == std::string_view::npos)
      return Status::Usage("unknown option -" + Printable(std::string(1, opt)));
    Status s = ApplyFlag(opt, o);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status ParseArgs(const std::vector<std::string>& argv, Options* opts) {
  *opts = Options();
  if (!argv.empty()) {
    std::string name = BaseName(argv[0]);
    if (name == "mailq") opts->mode = Mode::kListQueue;
    else if (name == "newaliases") opts->mode = Mode::kNewAliases;
  }
  size_t i = 1;
  bool dashdash = false;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      dashdash = true;
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // first non-option: recipients
    Status s = ParseOptionWord(argv, &i, opts);
    if (!s.ok()) return s;
  }
  for (; i < argv.size(); ++i) {
    opts->recipients.push_back(argv[i]);
    opts->after_dashdash.push_back(dashdash);
  }
  return Status::Ok();
}

}  // namespace relay
