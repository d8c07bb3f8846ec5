// What sendmail -bs takes from its command line for a message that came
// over SMTP (SubmissionOptions).
#include "relay/submit.h"

#include <gtest/gtest.h>

#include "relay/args.h"

namespace relay {
namespace {

Options Argv(std::vector<std::string> words) {
  words.insert(words.begin(), "sendmail");
  Options o;
  EXPECT_TRUE(ParseArgs(words, &o).ok());
  return o;
}

MailTransaction Txn(std::string sender, std::string notify = "") {
  MailTransaction t;
  t.sender = std::move(sender);
  t.recipients = {"b@y.org", "c@z.org"};
  t.notify = std::move(notify);
  return t;
}

TEST(SubmissionOptions, NotifyFromRcptElseFromMinusN) {
  struct {
    std::vector<std::string> argv;
    const char* rcpt_notify;
    const char* want;
  } cases[] = {
      {{"-bs"}, "", ""},
      {{"-bs", "-N", "never"}, "", "NEVER"},
      {{"-bs", "-Nsuccess,delay"}, "", "SUCCESS,DELAY"},
      {{"-bs", "-N", "never"}, "SUCCESS", "SUCCESS"},  // RCPT says it: RCPT wins
      {{"-bs"}, "FAILURE", "FAILURE"},
      {{"-bs", "-N", "bogus"}, "", ""},  // a bad -N was dropped with a warning
  };
  for (const auto& c : cases) {
    Options o = SubmissionOptions(Argv(c.argv), Txn("a@x.org", c.rcpt_notify));
    EXPECT_EQ(o.dsn_notify, c.want) << c.argv.back() << " / " << c.rcpt_notify;
  }
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
  EXPECT_EQ(o.dsn_notify, "NEVER");
  EXPECT_EQ(o.dsn_ret, "HDRS");
  EXPECT_EQ(o.envid, "e1");
  EXPECT_EQ(o.body_type, "8BITMIME");
}

}  // namespace
}  // namespace relay
