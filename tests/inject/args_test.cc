#include "relay/inject/args.h"

#include <gtest/gtest.h>

#include <sysexits.h>

#include <string>
#include <vector>

// The tables below spell out expected Options with designated initializers;
// the fields they leave out keep their defaults, which is the point.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace relay {
namespace {

using Argv = std::vector<std::string>;

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kDeliver: return "kDeliver";
    case Mode::kListQueue: return "kListQueue";
    case Mode::kNewAliases: return "kNewAliases";
    case Mode::kVerify: return "kVerify";
    case Mode::kSmtp: return "kSmtp";
    case Mode::kFlush: return "kFlush";
    case Mode::kNoop: return "kNoop";
  }
  return "?";
}

std::string Join(const Argv& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += '\'' + a + '\'';
  }
  return out;
}

// Compares every field, so a case that forgets a side effect fails.
void ExpectSameOptions(const Options& got, const Options& want) {
  EXPECT_STREQ(ModeName(got.mode), ModeName(want.mode));
  EXPECT_EQ(got.extract_recipients, want.extract_recipients) << "extract_recipients (-t)";
  EXPECT_EQ(got.ignore_dots, want.ignore_dots) << "ignore_dots (-i)";
  EXPECT_EQ(got.queue_only, want.queue_only) << "queue_only (-odq)";
  EXPECT_EQ(got.verbose, want.verbose) << "verbose (-v)";
  EXPECT_EQ(got.sender, want.sender) << "sender (-f)";
  EXPECT_EQ(got.full_name, want.full_name) << "full_name (-F)";
  EXPECT_EQ(got.config_path, want.config_path) << "config_path (-C)";
  EXPECT_EQ(got.dsn_notify, want.dsn_notify) << "dsn_notify (-N)";
  EXPECT_EQ(got.dsn_ret, want.dsn_ret) << "dsn_ret (-R)";
  EXPECT_EQ(got.envid, want.envid) << "envid (-V)";
  EXPECT_EQ(got.body_type, want.body_type) << "body_type (-B)";
  EXPECT_EQ(got.recipients, want.recipients);
  EXPECT_EQ(got.after_dashdash, want.after_dashdash);
  EXPECT_EQ(got.warnings, want.warnings);
}

struct ArgsCase {
  Argv argv;
  Options want;
};

void CheckCases(const ArgsCase* cases, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const ArgsCase& c = cases[i];
    SCOPED_TRACE("argv: " + Join(c.argv));
    Options got;
    Status s = ParseArgs(c.argv, &got);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectSameOptions(got, c.want);
  }
}

const std::string k100(100, 'x');
const std::string k101(101, 'x');

TEST(Args, ParsesOptions) {
  const ArgsCase cases[] = {
      // Nothing at all.
      {{"sendmail"}, {}},
      {{}, {}},
      // Recipients.
      {{"sendmail", "a@x"}, {.recipients = {"a@x"}, .after_dashdash = {false}}},
      {{"sendmail", "a@x", "b@y, c@z"},
       {.recipients = {"a@x", "b@y, c@z"}, .after_dashdash = {false, false}}},
      // Flags, alone and bundled.
      {{"sendmail", "-t"}, {.extract_recipients = true}},
      {{"sendmail", "-i"}, {.ignore_dots = true}},
      {{"sendmail", "-ti"}, {.extract_recipients = true, .ignore_dots = true}},
      {{"sendmail", "-it", "-v"}, {.extract_recipients = true, .ignore_dots = true, .verbose = true}},
      {{"sendmail", "-G", "-U", "-c", "-m", "-n", "-x"}, {}},
      {{"sendmail", "-GUcmnx"}, {}},
      // -o: attached or separate.
      {{"sendmail", "-oi"}, {.ignore_dots = true}},
      {{"sendmail", "-o", "i"}, {.ignore_dots = true}},
      {{"sendmail", "-odq"}, {.queue_only = true}},
      {{"sendmail", "-o", "dq"}, {.queue_only = true}},
      {{"sendmail", "-oem", "-oee", "-odi", "-odb", "-oQ/var/spool/mqueue"}, {}},
      {{"sendmail", "-tio", "i"}, {.extract_recipients = true, .ignore_dots = true}},
      // -f and -r: attached or separate; the last one wins.
      {{"sendmail", "-fme@x"}, {.sender = "me@x"}},
      {{"sendmail", "-f", "me@x"}, {.sender = "me@x"}},
      {{"sendmail", "-rme@x"}, {.sender = "me@x"}},
      {{"sendmail", "-r", "me@x"}, {.sender = "me@x"}},
      {{"sendmail", "-f", "a@x", "-r", "b@y", "-fc@z"}, {.sender = "c@z"}},
      {{"sendmail", "-f", ""}, {.sender = ""}},
      {{"sendmail", "-f<>"}, {.sender = "<>"}},
      {{"sendmail", "-itfme@x", "rcpt"},
       {.extract_recipients = true,
        .ignore_dots = true,
        .sender = "me@x",
        .recipients = {"rcpt"},
        .after_dashdash = {false}}},
      {{"sendmail", "-tf", "me@x", "rcpt"},
       {.extract_recipients = true, .sender = "me@x", .recipients = {"rcpt"}, .after_dashdash = {false}}},
      // An argument that looks like an option is still the argument.
      {{"sendmail", "-f", "-t"}, {.sender = "-t"}},
      {{"sendmail", "-f", "--", "x"}, {.sender = "--", .recipients = {"x"}, .after_dashdash = {false}}},
      // -F and -C.
      {{"sendmail", "-FCron Daemon"}, {.full_name = "Cron Daemon"}},
      {{"sendmail", "-F", "Cron Daemon"}, {.full_name = "Cron Daemon"}},
      {{"sendmail", "-F", ""}, {.full_name = ""}},
      {{"sendmail", "-C/etc/other.conf"}, {.config_path = "/etc/other.conf"}},
      {{"sendmail", "-C", "/etc/other.conf"}, {.config_path = "/etc/other.conf"}},
      // Options with arguments that relay accepts and ignores.
      {{"sendmail", "-h", "17", "-A", "c", "-L", "tag", "-O", "DeliveryMode=b", "-X", "/tmp/log",
        "-e", "m", "-p", "smtp:host"},
       {}},
      {{"sendmail", "-h17", "-Ac", "-Ltag", "-ODeliveryMode=b", "-X/tmp/log", "-em", "-psmtp"}, {}},
      // -d and whatever follows it in the word is ignored.
      {{"sendmail", "-d0.1"}, {}},
      {{"sendmail", "-d", "a@x"}, {.recipients = {"a@x"}, .after_dashdash = {false}}},
      {{"sendmail", "-id0.1t"}, {.ignore_dots = true}},
      // Option parsing stops at the first non-option.
      {{"sendmail", "a@x", "-t"}, {.recipients = {"a@x", "-t"}, .after_dashdash = {false, false}}},
      {{"sendmail", "-i", "a@x", "--", "b@y"},
       {.ignore_dots = true, .recipients = {"a@x", "--", "b@y"}, .after_dashdash = {false, false, false}}},
      // A lone "-" is not an option.
      {{"sendmail", "-i", "-", "x"},
       {.ignore_dots = true, .recipients = {"-", "x"}, .after_dashdash = {false, false}}},
      // "--" ends the options; what follows may start with '-'.
      {{"sendmail", "--", "-a@x", "b@y"}, {.recipients = {"-a@x", "b@y"}, .after_dashdash = {true, true}}},
      {{"sendmail", "-t", "--"}, {.extract_recipients = true}},
      {{"sendmail", "--", "--"}, {.recipients = {"--"}, .after_dashdash = {true}}},
      // Modes from argv[0].
      {{"mailq"}, {.mode = Mode::kListQueue}},
      {{"/usr/bin/mailq"}, {.mode = Mode::kListQueue}},
      {{"newaliases"}, {.mode = Mode::kNewAliases}},
      {{"/usr/bin/newaliases"}, {.mode = Mode::kNewAliases}},
      {{"/usr/sbin/sendmail"}, {.mode = Mode::kDeliver}},
      {{"/usr/lib/mailq/sendmail"}, {.mode = Mode::kDeliver}},
      {{"mailq-old"}, {.mode = Mode::kDeliver}},
      {{"/usr/bin/mailq", "-v"}, {.mode = Mode::kListQueue, .verbose = true}},
      // Modes from -b.
      {{"sendmail", "-bm"}, {.mode = Mode::kDeliver}},
      {{"sendmail", "-bp"}, {.mode = Mode::kListQueue}},
      {{"sendmail", "-b", "p"}, {.mode = Mode::kListQueue}},
      {{"sendmail", "-bi"}, {.mode = Mode::kNewAliases}},
      {{"sendmail", "-I"}, {.mode = Mode::kNewAliases}},
      {{"sendmail", "-bv", "a@x"}, {.mode = Mode::kVerify, .recipients = {"a@x"}, .after_dashdash = {false}}},
      {{"sendmail", "-bs"}, {.mode = Mode::kSmtp}},
      {{"mailq", "-bm"}, {.mode = Mode::kDeliver}},
      {{"sendmail", "-bp", "-bm"}, {.mode = Mode::kDeliver}},
      // -q forms.
      {{"sendmail", "-q"}, {.mode = Mode::kFlush}},
      {{"sendmail", "-qf"}, {.mode = Mode::kFlush}},
      {{"sendmail", "-qRexample.com"}, {.mode = Mode::kFlush}},
      {{"sendmail", "-qI19A3F2C41B2E5"}, {.mode = Mode::kFlush}},
      {{"sendmail", "-qSroot"}, {.mode = Mode::kFlush}},
      {{"sendmail", "-q30m"}, {.mode = Mode::kNoop}},
      {{"sendmail", "-q1h"}, {.mode = Mode::kNoop}},
      {{"sendmail", "-q0"}, {.mode = Mode::kNoop}},
      {{"sendmail", "-vq"}, {.mode = Mode::kFlush, .verbose = true}},
      {{"sendmail", "-qv"}, {.mode = Mode::kFlush}},  // the rest of the word is the selector
      {{"sendmail", "-q", "-v"}, {.mode = Mode::kFlush, .verbose = true}},
      // -N: normalised to upper case.
      {{"sendmail", "-N", "never"}, {.dsn_notify = "NEVER"}},
      {{"sendmail", "-NNEVER"}, {.dsn_notify = "NEVER"}},
      {{"sendmail", "-N", "success"}, {.dsn_notify = "SUCCESS"}},
      {{"sendmail", "-N", "success,failure"}, {.dsn_notify = "SUCCESS,FAILURE"}},
      {{"sendmail", "-N", "Delay, Success ,FAILURE"}, {.dsn_notify = "DELAY,SUCCESS,FAILURE"}},
      // -R.
      {{"sendmail", "-R", "full"}, {.dsn_ret = "FULL"}},
      {{"sendmail", "-RHdrs"}, {.dsn_ret = "HDRS"}},
      {{"sendmail", "-R", "HDRS"}, {.dsn_ret = "HDRS"}},
      // -V.
      {{"sendmail", "-V", "env-id.123+x"}, {.envid = "env-id.123+x"}},
      {{"sendmail", "-V", k100}, {.envid = k100}},
      // -B.
      {{"sendmail", "-B", "7bit"}, {.body_type = "7BIT"}},
      {{"sendmail", "-B8BITMIME"}, {.body_type = "8BITMIME"}},
      {{"sendmail", "-B", "8BitMime"}, {.body_type = "8BITMIME"}},
  };
  CheckCases(cases, std::size(cases));
}

TEST(Args, BadDsnValuesAreWarnings) {
  const std::string n_hint = "' (use never, or a list of success, failure, delay)";
  const std::string v_warning = "ignoring bad -V value (1-100 printable ASCII characters)";
  const ArgsCase cases[] = {
      {{"sendmail", "-N", "never,success"}, {.warnings = {"ignoring bad -N value 'never,success" + n_hint}}},
      {{"sendmail", "-N", "success,never"}, {.warnings = {"ignoring bad -N value 'success,never" + n_hint}}},
      {{"sendmail", "-N", "never,never"}, {.warnings = {"ignoring bad -N value 'never,never" + n_hint}}},
      {{"sendmail", "-N", "sometimes"}, {.warnings = {"ignoring bad -N value 'sometimes" + n_hint}}},
      {{"sendmail", "-N", "success,,failure"},
       {.warnings = {"ignoring bad -N value 'success,,failure" + n_hint}}},
      {{"sendmail", "-N", ""}, {.warnings = {"ignoring bad -N value '" + n_hint}}},
      {{"sendmail", "-N", " "}, {.warnings = {"ignoring bad -N value ' " + n_hint}}},
      // A bad value leaves an earlier good one in place.
      {{"sendmail", "-N", "success", "-N", "bogus"},
       {.dsn_notify = "SUCCESS", .warnings = {"ignoring bad -N value 'bogus" + n_hint}}},
      {{"sendmail", "-R", "headers"}, {.warnings = {"ignoring bad -R value 'headers' (use full or hdrs)"}}},
      {{"sendmail", "-R", ""}, {.warnings = {"ignoring bad -R value '' (use full or hdrs)"}}},
      {{"sendmail", "-V", ""}, {.warnings = {v_warning}}},
      {{"sendmail", "-V", k101}, {.warnings = {v_warning}}},
      {{"sendmail", "-V", "has space"}, {.warnings = {v_warning}}},
      {{"sendmail", "-V", "tab\there"}, {.warnings = {v_warning}}},
      {{"sendmail", "-V", "del\x7f"}, {.warnings = {v_warning}}},
      {{"sendmail", "-V", "caf\xc3\xa9"}, {.warnings = {v_warning}}},
      {{"sendmail", "-B", "BINARYMIME"},
       {.warnings = {"ignoring bad -B value 'BINARYMIME' (use 7BIT or 8BITMIME)"}}},
      {{"sendmail", "-B8bit"}, {.warnings = {"ignoring bad -B value '8bit' (use 7BIT or 8BITMIME)"}}},
      // Several warnings, in order, and the message still goes out.
      {{"sendmail", "-Nx", "-Ry", "-Bz", "-i", "a@x"},
       {.ignore_dots = true,
        .recipients = {"a@x"},
        .after_dashdash = {false},
        .warnings = {"ignoring bad -N value 'x" + n_hint, "ignoring bad -R value 'y' (use full or hdrs)",
                     "ignoring bad -B value 'z' (use 7BIT or 8BITMIME)"}}},
  };
  CheckCases(cases, std::size(cases));
}

// Command lines that real programs pass to /usr/sbin/sendmail.
TEST(Args, InvocationsFromTheWild) {
  const ArgsCase cases[] = {
      // Debian cron.
      {{"/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"},
       {.ignore_dots = true,
        .full_name = "CronDaemon",
        .body_type = "8BITMIME",
        .recipients = {"root"},
        .after_dashdash = {false}}},
      // cronie.
      {{"/usr/sbin/sendmail", "-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "user"},
       {.extract_recipients = true, .ignore_dots = true, .sender = "user", .full_name = "CronDaemon"}},
      // bsd-mailx.
      {{"/usr/sbin/sendmail", "-i", "-t"}, {.extract_recipients = true, .ignore_dots = true}},
      // s-nail.
      {{"/usr/sbin/sendmail", "-i", "--", "a@x", "b@y"},
       {.ignore_dots = true, .recipients = {"a@x", "b@y"}, .after_dashdash = {true, true}}},
      // GNU mailutils.
      {{"/usr/sbin/sendmail", "-oi", "-f", "user@host", "-t"},
       {.extract_recipients = true, .ignore_dots = true, .sender = "user@host"}},
      // mutt with DSN.
      {{"/usr/sbin/sendmail", "-oem", "-oi", "-f", "x", "-N", "success", "-R", "hdrs", "-B8BITMIME", "--",
        "a", "b"},
       {.ignore_dots = true,
        .sender = "x",
        .dsn_notify = "SUCCESS",
        .dsn_ret = "HDRS",
        .body_type = "8BITMIME",
        .recipients = {"a", "b"},
        .after_dashdash = {true, true}}},
      // PHP's mail() with sendmail_path = "sendmail -t -i" and -f in additional_parameters.
      {{"/usr/sbin/sendmail", "-t", "-i", "-fwww@x"},
       {.extract_recipients = true, .ignore_dots = true, .sender = "www@x"}},
      // git send-email.
      {{"/usr/sbin/sendmail", "-f", "env", "-i", "rcpt"},
       {.ignore_dots = true, .sender = "env", .recipients = {"rcpt"}, .after_dashdash = {false}}},
      // Postfix-style queue run from a cron job, and a daemon's -bd -q30m split in two.
      {{"/usr/sbin/sendmail", "-q"}, {.mode = Mode::kFlush}},
      {{"/usr/lib/sendmail", "-bp"}, {.mode = Mode::kListQueue}},
  };
  CheckCases(cases, std::size(cases));
}

struct ErrorCase {
  Argv argv;
  std::string message;
};

TEST(Args, UsageErrors) {
  const ErrorCase errors[] = {
      // mail(1)-style -s is not a sendmail option.
      {{"/usr/sbin/sendmail", "-s", "Subject", "rcpt"}, "unknown option -s"},
      {{"sendmail", "-z"}, "unknown option -z"},
      {{"sendmail", "-tz"}, "unknown option -z"},
      {{"sendmail", "-t", "-k", "x"}, "unknown option -k"},
      {{"sendmail", "--help"}, "unknown option --"},
      {{"sendmail", "-M"}, "unknown option -M"},
      {{"sendmail", "-f"}, "option -f requires an argument"},
      {{"sendmail", "-i", "-f"}, "option -f requires an argument"},
      {{"sendmail", "-itf"}, "option -f requires an argument"},
      {{"sendmail", "-r"}, "option -r requires an argument"},
      {{"sendmail", "-o"}, "option -o requires an argument"},
      {{"sendmail", "-N"}, "option -N requires an argument"},
      {{"sendmail", "-R"}, "option -R requires an argument"},
      {{"sendmail", "-V"}, "option -V requires an argument"},
      {{"sendmail", "-B"}, "option -B requires an argument"},
      {{"sendmail", "-F"}, "option -F requires an argument"},
      {{"sendmail", "-C"}, "option -C requires an argument"},
      {{"sendmail", "-b"}, "option -b requires an argument"},
      {{"sendmail", "-bd"}, "-bd: relay runs no SMTP daemon from sendmail; use relayd"},
      {{"sendmail", "-bD"}, "-bD: relay runs no SMTP daemon from sendmail; use relayd"},
      {{"sendmail", "-bt"}, "-bt: address test mode is not supported; use -bv"},
      {{"sendmail", "-bx"}, "unknown mode -bx"},
      {{"sendmail", "-bpx"}, "unknown mode -bpx"},
      {{"sendmail", "-b", ""}, "unknown mode -b"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE("argv: " + Join(e.argv));
    Options got;
    Status s = ParseArgs(e.argv, &got);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kUsage);
    EXPECT_EQ(s.exit_code(), EX_USAGE);
    EXPECT_EQ(s.message(), e.message);
  }
}

TEST(Args, ResetsOptionsBeforeParsing) {
  Options o;
  ASSERT_TRUE(ParseArgs({"sendmail", "-t", "-i", "-fme@x", "-N", "bogus", "a@x"}, &o).ok());
  ASSERT_TRUE(ParseArgs({"sendmail", "b@y"}, &o).ok());
  ExpectSameOptions(o, Options{.recipients = {"b@y"}, .after_dashdash = {false}});
}

TEST(Args, RecipientsAndDashdashFlagsStayParallel) {
  Options o;
  ASSERT_TRUE(ParseArgs({"sendmail", "--", "a", "-b", "", "c"}, &o).ok());
  ASSERT_EQ(o.recipients.size(), 4u);
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"a", "-b", "", "c"}));
  EXPECT_EQ(o.after_dashdash, (std::vector<bool>{true, true, true, true}));
}

}  // namespace
}  // namespace relay
