// libFuzzer target for the sendmail command line parser. The input is argv,
// its words separated by NUL bytes (argv[0] first). Besides "no crash", it
// checks what callers rely on: recipients are exactly the words after the
// options, the DSN values are normalised or empty, errors are usage errors,
// and Options -> canonical argv -> Options is the identity.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "relay/inject/args.h"
#include "relay/base/strings.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "args_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool ValidNotify(const std::string& n) {
  if (n.empty() || n == "NEVER") return true;
  for (std::string_view item : relay::Split(n, ','))
    if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") return false;
  return true;
}

bool PrintableAscii(const std::string& s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

void RequireSame(const relay::Options& a, const relay::Options& b, bool with_warnings) {
  Require(a.mode == b.mode, "mode");
  Require(a.extract_recipients == b.extract_recipients, "extract_recipients");
  Require(a.ignore_dots == b.ignore_dots, "ignore_dots");
  Require(a.queue_only == b.queue_only, "queue_only");
  Require(a.verbose == b.verbose, "verbose");
  Require(a.sender == b.sender, "sender");
  Require(a.full_name == b.full_name, "full_name");
  Require(a.config_path == b.config_path, "config_path");
  Require(a.dsn_notify == b.dsn_notify, "dsn_notify");
  Require(a.dsn_ret == b.dsn_ret, "dsn_ret");
  Require(a.envid == b.envid, "envid");
  Require(a.body_type == b.body_type, "body_type");
  Require(a.recipients == b.recipients, "recipients");
  Require(a.after_dashdash == b.after_dashdash, "after_dashdash");
  if (with_warnings) Require(a.warnings == b.warnings, "warnings");
}

// The argv that says what opts says, in canonical form.
std::vector<std::string> Canonical(const relay::Options& o) {
  std::vector<std::string> argv = {"/usr/sbin/sendmail"};
  switch (o.mode) {
    case relay::Mode::kDeliver: break;
    case relay::Mode::kListQueue: argv.push_back("-bp"); break;
    case relay::Mode::kNewAliases: argv.push_back("-bi"); break;
    case relay::Mode::kVerify: argv.push_back("-bv"); break;
    case relay::Mode::kSmtp: argv.push_back("-bs"); break;
    case relay::Mode::kFlush: argv.push_back("-q"); break;
    case relay::Mode::kNoop: argv.push_back("-q30m"); break;
  }
  if (o.extract_recipients) argv.push_back("-t");
  if (o.ignore_dots) argv.push_back("-oi");
  if (o.queue_only) argv.push_back("-odq");
  if (o.verbose) argv.push_back("-v");
  auto with_arg = [&](const char* opt, const std::string& v) {
    argv.push_back(opt);
    argv.push_back(v);
  };
  if (o.sender) with_arg("-f", *o.sender);
  if (o.full_name) with_arg("-F", *o.full_name);
  if (o.config_path) with_arg("-C", *o.config_path);
  if (!o.dsn_notify.empty()) with_arg("-N", o.dsn_notify);
  if (!o.dsn_ret.empty()) with_arg("-R", o.dsn_ret);
  if (!o.envid.empty()) with_arg("-V", o.envid);
  if (!o.body_type.empty()) with_arg("-B", o.body_type);
  if (!o.recipients.empty() && o.after_dashdash[0]) argv.push_back("--");
  for (const std::string& r : o.recipients) argv.push_back(r);
  return argv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> argv;
  for (std::string_view w : relay::Split(in, '\0')) argv.emplace_back(w);

  relay::Options opts;
  relay::Status s = relay::ParseArgs(argv, &opts);

  // Deterministic, and independent of what was in *opts before.
  relay::Options again;
  again.verbose = true;
  again.recipients = {"stale"};
  again.after_dashdash = {true};
  again.warnings = {"stale"};
  relay::Status s2 = relay::ParseArgs(argv, &again);
  Require(s.ok() == s2.ok() && s.message() == s2.message(), "ParseArgs is deterministic");

  if (!s.ok()) {
    Require(s.kind() == relay::Status::Kind::kUsage, "errors are usage errors");
    const std::string& m = s.message();
    Require(StartsWith(m, "unknown option -") || StartsWith(m, "option -") ||
                StartsWith(m, "unknown mode -b") || StartsWith(m, "-b"),
            "error message names the problem");
    return 0;
  }
  RequireSame(opts, again, true);

  Require(opts.recipients.size() == opts.after_dashdash.size(), "recipients and after_dashdash are parallel");
  // The recipients are exactly the last words of argv.
  const size_t n = opts.recipients.size();
  Require(n + 1 <= argv.size(), "argv[0] is never a recipient");
  if (n > 0) {
    const size_t first = argv.size() - n;
    for (size_t i = 0; i < n; ++i) Require(opts.recipients[i] == argv[first + i], "recipients are argv's tail");
    bool dd = opts.after_dashdash[0];
    for (bool b : opts.after_dashdash) Require(b == dd, "after_dashdash is all or nothing");
    if (dd) {
      Require(first >= 2 && argv[first - 1] == "--", "after_dashdash only after --");
    } else {
      const std::string& r = opts.recipients[0];
      Require(r.size() < 2 || r[0] != '-', "the first recipient is not an option word");
    }
  }

  Require(ValidNotify(opts.dsn_notify), "dsn_notify is normalised");
  Require(opts.dsn_ret.empty() || opts.dsn_ret == "FULL" || opts.dsn_ret == "HDRS", "dsn_ret");
  Require(opts.body_type.empty() || opts.body_type == "7BIT" || opts.body_type == "8BITMIME", "body_type");
  Require(opts.envid.empty() || (opts.envid.size() <= 100 && PrintableAscii(opts.envid)), "envid");
  for (const std::string& w : opts.warnings) Require(StartsWith(w, "ignoring bad -"), "warning text");

  // Options -> canonical argv -> the same Options, without warnings.
  relay::Options round;
  relay::Status rs = relay::ParseArgs(Canonical(opts), &round);
  Require(rs.ok(), "the canonical argv parses");
  Require(round.warnings.empty(), "the canonical argv has no bad values");
  RequireSame(opts, round, false);
  return 0;
}
