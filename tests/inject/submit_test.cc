// What sendmail -bs takes from its command line for a message that came
// over SMTP (SubmissionOptions).
#include "relay/inject/submit.h"

#include <gtest/gtest.h>

#include "relay/inject/args.h"
#include "relay/inject/inject.h"

namespace relay {
namespace {

Options Argv(std::vector<std::string> words) {
  words.insert(words.begin(), "sendmail");
  Options o;
  EXPECT_TRUE(ParseArgs(words, &o).ok());
  return o;
}

MailTransaction Txn(std::string sender, std::string first_notify = "") {
  MailTransaction t;
  t.sender = std::move(sender);
  t.recipients = {"b@y.org", "c@z.org"};
  t.notifies = {std::move(first_notify), ""};
  return t;
}

// Each RCPT's NOTIFY stays its recipient's (RFC 3461 4.1); -N is what the
// others get. SubmissionOptions passes -N on as that default, and the
// injector's ExpandRecipients applies both.
TEST(SubmissionOptions, NotifyFromEachRcptElseFromMinusN) {
  struct {
    std::vector<std::string> argv;
    const char* first_notify;  // the first RCPT's; the second gave none
    const char* want_first;
    const char* want_second;
  } cases[] = {
      {{"-bs"}, "", "", ""},
      {{"-bs", "-N", "never"}, "", "NEVER", "NEVER"},
      {{"-bs", "-Nsuccess,delay"}, "", "SUCCESS,DELAY", "SUCCESS,DELAY"},
      {{"-bs", "-N", "never"}, "SUCCESS", "SUCCESS", "NEVER"},  // RCPT says it: RCPT wins, for it only
      {{"-bs"}, "FAILURE", "FAILURE", ""},
      {{"-bs"}, "NEVER", "NEVER", ""},
      {{"-bs", "-N", "bogus"}, "", "", ""},  // a bad -N was dropped with a warning
  };
  for (const auto& c : cases) {
    MailTransaction t = Txn("a@x.org", c.first_notify);
    Options o = SubmissionOptions(Argv(c.argv), t);
    std::vector<Recipient> r = ExpandRecipients(o.recipients, nullptr, LocalPolicy{"example.org", {}}, nullptr,
                                                &t.notifies, o.dsn_notify);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].notify, c.want_first) << c.argv.back() << " / " << c.first_notify;
    EXPECT_EQ(r[1].notify, c.want_second) << c.argv.back() << " / " << c.first_notify;
  }
}

// An alias's targets inherit the NOTIFY (and ORCPT) of its RCPT.
TEST(SubmissionOptions, AliasTargetsInheritTheirRcptsNotify) {
  Aliases aliases = Aliases::Parse("team: a@x.org, b@x.org\n", nullptr);
  std::vector<std::string> addrs = {"team", "c@x.org"}, notifies = {"NEVER", "FAILURE"}, orcpts = {"", ""};
  std::vector<Recipient> r =
      ExpandRecipients(addrs, &aliases, LocalPolicy{"x.org", {}}, &orcpts, &notifies, "SUCCESS");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].address, "a@x.org");
  EXPECT_EQ(r[0].notify, "NEVER");
  EXPECT_EQ(r[1].notify, "NEVER");
  EXPECT_EQ(r[2].notify, "FAILURE");
}

TEST(SubmissionOptions, QueueOnlyFromMinusOdq) {
  EXPECT_FALSE(SubmissionOptions(Argv({"-bs"}), Txn("a@x.org")).queue_only);
  EXPECT_TRUE(SubmissionOptions(Argv({"-bs", "-odq"}), Txn("a@x.org")).queue_only);
  EXPECT_TRUE(SubmissionOptions(Argv({"-odq", "-bs"}), Txn("a@x.org")).queue_only);
  EXPECT_FALSE(SubmissionOptions(Argv({"-bs", "-odi"}), Txn("a@x.org")).queue_only);
}

// As Postfix's stand-alone smtpd: the sender is MAIL FROM's, never -f's,
// and <> stays the null sender; -R, -V, -B, -F and -t have no effect.
TEST(SubmissionOptions, EnvelopeOnlyFromTheDialogue) {
  Options argv = Argv({"-bs", "-f", "argv@x.org", "-F", "Name", "-R", "full", "-V", "id1", "-B",
                       "8BITMIME", "-t", "-i"});
  Options o = SubmissionOptions(argv, Txn(""));
  EXPECT_EQ(o.sender, "<>");
  o = SubmissionOptions(argv, Txn("mail@x.org"));
  EXPECT_EQ(o.sender, "mail@x.org");
  EXPECT_FALSE(o.full_name.has_value());
  EXPECT_EQ(o.dsn_ret, "");
  EXPECT_EQ(o.envid, "");
  EXPECT_EQ(o.body_type, "");
  EXPECT_FALSE(o.extract_recipients);
  EXPECT_EQ(o.recipients, (std::vector<std::string>{"b@y.org", "c@z.org"}));
  EXPECT_EQ(o.after_dashdash, (std::vector<bool>{true, true}));
  EXPECT_TRUE(o.ignore_dots);
}

TEST(SubmissionOptions, DsnParametersFromTheDialogue) {
  MailTransaction t = Txn("a@x.org", "NEVER");
  t.ret = "HDRS";
  t.envid = "e1";
  t.body = "8BITMIME";
  Options o = SubmissionOptions(Argv({"-bs", "-R", "full", "-V", "id1"}), t);
  EXPECT_EQ(o.dsn_notify, "");  // -N not given: no default NOTIFY
  EXPECT_EQ(o.dsn_ret, "HDRS");
  EXPECT_EQ(o.envid, "e1");
  EXPECT_EQ(o.body_type, "8BITMIME");
}

}  // namespace
}  // namespace relay
