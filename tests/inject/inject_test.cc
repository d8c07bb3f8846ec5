// Golden tests: command line + standard input -> the exact queue file.
#include "relay/inject/inject.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

using testing::FaultEnv;
using testing::Op;
using testing::TempDir;

constexpr char kId[] = "6610AAE723F5700TMGJ";
constexpr int64_t kNow = 1795548364000000;  // Tue, 24 Nov 2026 19:26:04 UTC

struct Result {
  Status status;
  std::string file;  // the committed queue file, "" if none
};

class InjectTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> argv, const std::string& input,
             Env* env = nullptr, size_t chunk = 7,
             std::vector<SkippedRecipient>* skipped = nullptr) {
    if (!env) env = Env::Default();
    argv.insert(argv.begin(), "sendmail");
    Options opts;
    Status s = ParseArgs(argv, &opts);
    if (!s.ok()) return {s, ""};
    InjectParams p;
    p.opts = opts;
    p.domain = "example.com";
    p.hostname = "host.example.com";
    p.local = {"example.com", {"localhost", "host", "host.example.com"}};
    p.aliases = &aliases_;
    p.submitter = {1000, "alice", "Alice Example"};
    p.now_micros = kNow;
    p.gmtoff = 3600;
    p.queue_id = kId;
    p.msgid_nonce = "NONCE1";
    p.size_limit = size_limit_;
    p.orcpts = orcpts_;
    p.received_from = received_from_;
    p.received_auth = received_auth_;
    if (!received_with_.empty()) p.received_with = received_with_;
    SpoolPaths paths(dir_.path());
    std::remove(paths.queue_file(kId).c_str());  // from an earlier Run
    EXPECT_TRUE(CreatePrivateSpool(env, paths).ok());
    QueueWriter w(env, paths);
    Injector inj(p, &w);
    s = inj.Start();
    if (!s.ok()) return {s, ""};
    bool exists = false;
    s = w.Begin(kId, 0600, &exists);
    if (!s.ok()) return {s, ""};
    // Feed in small chunks so that CRLF pairs and lines straddle calls.
    for (size_t i = 0; i < input.size(); i += chunk)
      if (!inj.Feed(std::string_view(input).substr(i, chunk))) break;
    s = inj.Finish();
    if (skipped) *skipped = inj.skipped();
    if (s.ok()) s = w.Commit();
    else w.Abort();
    return {s, ReadQueued()};
  }

  std::string ReadQueued() {
    std::ifstream f(dir_.path() + "/queue/" + kId, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  TempDir dir_;
  Aliases aliases_ = Aliases::Parse("root: admin@example.net\npostmaster: root\n", nullptr);
  uint64_t size_limit_ = 0;
  std::vector<std::string> orcpts_;
  std::string received_from_, received_auth_, received_with_;
};

std::string Head(const std::string& rcpts, const std::string& from = "alice@example.com",
                 const std::string& extra = "") {
  return std::string("relay-queue 2\nid ") + kId + "\ntime " + std::to_string(kNow) +
         "\nuid 1000\nfrom " + from + "\n" + rcpts + extra + "content\n";
}

const std::string kReceived =
    "Received: by host.example.com (relay, from userid 1000)\r\n"
    "\tid 6610AAE723F5700TMGJ; Tue, 24 Nov 2026 20:26:04 +0100\r\n";
const std::string kMsgId = "Message-ID: <6610AAE723F5700TMGJ.NONCE1@example.com>\r\n";
const std::string kDate = "Date: Tue, 24 Nov 2026 20:26:04 +0100\r\n";
const std::string kFrom = "From: Alice Example <alice@example.com>\r\n";

std::string File(const std::string& head, const std::string& content, bool eight = false) {
  return head + content + "end " + std::to_string(content.size()) + (eight ? " 8bit\n" : " 7bit\n");
}

TEST_F(InjectTest, DebianCronMessage) {
  Result r = Run({"-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"},
                 "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> run-parts\n"
                 "Content-Type: text/plain; charset=UTF-8\n\nhello\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.file, File(Head("rcpt admin@example.net\norcpt root@example.com\n",
                              "alice@example.com", "body 8BITMIME\n"),
                         kReceived +
                             "From: root@example.com (Cron Daemon)\r\nTo: root@example.com\r\n"
                             "Subject: Cron <root@host> run-parts\r\n"
                             "Content-Type: text/plain; charset=UTF-8\r\n" +
                             kMsgId + kDate + "\r\nhello\r\n"));
}

TEST_F(InjectTest, ExtractRecipientsRemovesBccAndAddsUnion) {
  Result r = Run({"-t", "-i", "extra@x.org"},
                 "To: a@x.org, Joe <b@y.org>\nCc: \"Doe, John\" <c@z.org>\n"
                 "Bcc: hidden@x.org,\n  hidden2@x.org\nSubject: s\n\nbody\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.file, File(Head("rcpt extra@x.org\nrcpt a@x.org\nrcpt b@y.org\nrcpt c@z.org\n"
                              "rcpt hidden@x.org\nrcpt hidden2@x.org\n"),
                         kReceived +
                             "To: a@x.org, Joe <b@y.org>\r\nCc: \"Doe, John\" <c@z.org>\r\n"
                             "Subject: s\r\n" + kMsgId + kDate + kFrom + "\r\nbody\r\n"));
}

TEST_F(InjectTest, ResentHeadersSelectRecipients) {
  Result r = Run({"-t", "-i"},
                 "To: old@x.org\nResent-To: new@y.org\nResent-Bcc: secret@y.org\n"
                 "From: a@x.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <m@x>\n\nb\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.file,
            File(Head("rcpt new@y.org\nrcpt secret@y.org\n"),
                 kReceived +
                     "To: old@x.org\r\nResent-To: new@y.org\r\nFrom: a@x.org\r\n"
                     "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m@x>\r\n" +
                     "Resent-Message-ID: <6610AAE723F5700TMGJ.RNONCE1@example.com>\r\n"
                     "Resent-Date: Tue, 24 Nov 2026 20:26:04 +0100\r\n"
                     "Resent-From: Alice Example <alice@example.com>\r\n\r\nb\r\n"));
}

TEST_F(InjectTest, DotEndsInputWithoutDashI) {
  Result r = Run({"a@x.org"}, "Subject: s\n\nline\n.\nafter the dot\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"),
                         kReceived + "Subject: s\r\n" + kMsgId + kDate + kFrom + "\r\nline\r\n"));
}

TEST_F(InjectTest, DotIsStuffedWithDashI) {
  Result r = Run({"-oi", "a@x.org"}, "Subject: s\n\n.\n..x\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"), kReceived + "Subject: s\r\n" + kMsgId + kDate +
                                                     kFrom + "\r\n..\r\n...x\r\n"));
}

TEST_F(InjectTest, FirstLineNotHeaderStartsBody) {
  Result r = Run({"-i", "a@x.org"}, "hello there\nsecond: line\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"), kReceived + kMsgId + kDate + kFrom +
                                                     "\r\nhello there\r\nsecond: line\r\n"));
}

TEST_F(InjectTest, EmptyMessage) {
  Result r = Run({"-i", "a@x.org"}, "");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"), kReceived + kMsgId + kDate + kFrom + "\r\n"));
}

TEST_F(InjectTest, MboxFromLinesCrLfMixedAndMissingNewline) {
  Result r = Run({"-i", "a@x.org"},
                 "From alice Tue Nov 24 00:00:00 2026\n>From x\nSubject: s\r\nX-A: 1\r\n\r\nb1\nb2\r\nlast");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"), kReceived + "Subject: s\r\nX-A: 1\r\n" + kMsgId +
                                                     kDate + kFrom + "\r\nb1\r\nb2\r\nlast\r\n"));
}

TEST_F(InjectTest, BareCrAndNulAreDropped) {
  Result r = Run({"-i", "a@x.org"}, std::string("Subject: s\n\na\rb\0c\r\r\n", 19));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"),
                         kReceived + "Subject: s\r\n" + kMsgId + kDate + kFrom + "\r\nabc\r\n"));
}

TEST_F(InjectTest, LongLinesAreBrokenNotTruncated) {
  std::string longline(2100, 'x');
  Result r = Run({"-i", "a@x.org"}, "Subject: s\n\n" + longline + "\n");
  ASSERT_TRUE(r.status.ok());
  std::string wire = std::string(998, 'x') + "\r\n " + std::string(997, 'x') + "\r\n " +
                     std::string(105, 'x') + "\r\n";
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"),
                         kReceived + "Subject: s\r\n" + kMsgId + kDate + kFrom + "\r\n" + wire));
}

TEST_F(InjectTest, EightBitBodyIsFlagged) {
  Result r = Run({"-i", "a@x.org"}, "Subject: s\n\ncaf\xc3\xa9\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"),
                         kReceived + "Subject: s\r\n" + kMsgId + kDate + kFrom + "\r\ncaf\xc3\xa9\r\n",
                         true));
}

// The 8-bit scan goes a word at a time: one high byte anywhere in a line,
// at every offset (word heads, tails, the last byte before the 998-octet
// break), must be seen; a 7-bit body must not be flagged.
TEST_F(InjectTest, EightBitByteIsSeenAtEveryOffset) {
  for (size_t len : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 77u, 997u, 998u, 999u, 2100u}) {
    std::string line(len, 'a');
    Result r = Run({"-i", "a@x.org"}, "Subject: s\n\n" + line + "\n");
    ASSERT_TRUE(r.status.ok());
    EXPECT_NE(r.file.find(" 7bit\n"), std::string::npos) << "7-bit line of " << len;
    for (size_t at = 0; at < len; at += (len > 40 && at > 20 && at + 20 < len) ? 37 : 1) {
      std::string eight = line;
      eight[at] = '\x80';
      r = Run({"-i", "a@x.org"}, "Subject: s\n\n" + eight + "\n");
      ASSERT_TRUE(r.status.ok());
      EXPECT_NE(r.file.find(" 8bit\n"), std::string::npos) << "line of " << len << ", high byte at " << at;
    }
  }
}

TEST_F(InjectTest, SenderOptionsAndNullSender) {
  Result r = Run({"-f", "<>", "-i", "a@x.org"}, "Subject: s\n\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n", ""),
                         kReceived + "Subject: s\r\n" + kMsgId + kDate +
                             "From: MAILER-DAEMON@example.com\r\n\r\nb\r\n"));
  r = Run({"-r", "Bob <bob>", "-F", "Bob B\xc3\xb6", "-i", "a@x.org"}, "\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("from bob@example.com\n"), std::string::npos);
  EXPECT_NE(r.file.find("From: =?UTF-8?B?Qm9iIELDtg==?= <bob@example.com>\r\n"), std::string::npos);
}

TEST_F(InjectTest, DsnOptionsAreStored) {
  Result r = Run({"-N", "success,failure", "-R", "hdrs", "-V", "env1", "-odq", "-i", "a@x.org"},
                 "\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("rcpt a@x.org\nrcpt-notify SUCCESS,FAILURE\nret HDRS\nenvid env1\nqueue-only\ncontent\n"),
            std::string::npos)
      << r.file;
}

TEST_F(InjectTest, RemovedHeadersIncludingFolded) {
  Result r = Run({"-i", "a@x.org"},
                 "Return-Path: <x@y>\nContent-Length: 12\nBcc: a@x,\n\tb@y\nSubject: kept\n\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"),
                         kReceived + "Subject: kept\r\n" + kMsgId + kDate + kFrom + "\r\nb\r\n"));
}

TEST_F(InjectTest, RecipientsAreDeduplicatedAcrossAliases) {
  Result r = Run({"-i", "root", "postmaster", "ADMIN@example.net"}, "\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("rcpt admin@example.net\norcpt root@example.com\ncontent\n"),
            std::string::npos)
      << r.file;
}

// DSN ORCPT from an SMTP client is kept as the recipient's original
// address, in place of the alias it was expanded from.
TEST_F(InjectTest, OrcptFromSmtpIsStored) {
  orcpts_ = {"", "Orig@Example.org", "a@x.org"};
  Result r = Run({"-i", "a@x.org", "root", "b@x.org"}, "\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("rcpt a@x.org\nrcpt admin@example.net\norcpt Orig@Example.org\nrcpt b@x.org\n"
                        "orcpt a@x.org\ncontent\n"),
            std::string::npos)
      << r.file;
}

// What the injector commits, the queue reader takes back: an ORCPT it
// could not keep (over 320 octets once qualified, from a catch-all alias
// or from an SMTP client's ORCPT=) is left out, and the message is queued
// for its recipients instead of being lost to corrupt/ at delivery.
TEST_F(InjectTest, AnOrcptTheReaderWouldRefuseIsLeftOut) {
  aliases_ = Aliases::Parse("*: catchall@example.net\n", nullptr);
  const std::string local(315, 'o');  // 327 octets with "@example.com"
  orcpts_ = {"", std::string(400, 'p') + "@x.test"};
  Result r = Run({"-i", local, "b@x.org"}, "\nb\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_NE(r.file.find("rcpt catchall@example.net\nrcpt b@x.org\ncontent\n"), std::string::npos) << r.file;
  Envelope env;
  size_t head_size = 0;
  bool incomplete = true;
  EXPECT_TRUE(ParseHead(r.file, &env, &head_size, &incomplete).ok());
}

TEST_F(InjectTest, ReceivedForAnAuthenticatedClient) {
  received_from_ = "c.test (unknown [192.0.2.2])";
  received_auth_ = "alice";
  received_with_ = "ESMTPSA";
  Result r = Run({"-i", "a@x.org"}, "Subject: s\n\nb\n");
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("Received: from c.test (unknown [192.0.2.2])\r\n\t(Authenticated sender: alice)\r\n"
                        "\tby host.example.com (relay) with ESMTPSA id "),
            std::string::npos)
      << r.file;
}

// -t: an element of To, Cc or Bcc that cannot be parsed, or whose address
// cannot go into an envelope, is skipped and reported; the message goes to
// every good recipient (sendmail(8), as Postfix never refuses a -t message
// over header syntax).
TEST_F(InjectTest, ExtractRecipientsSkipsBadElements) {
  std::string longone = std::string(330, 'l') + "@x.org";
  std::vector<SkippedRecipient> skipped;
  std::string input = "To: a@x.org, <unbalanced@x.org, Joe Smith, b@y.org\n"
                      "Cc: \"unclosed@x.org, c@z.org\n"
                      "Cc: @, d@z.org, two words@x.org\n"
                      "Bcc: e@z.org, a@, (only a comment), " + longone + ",\n <f@z.org>\n"
                      "Bcc: N <ctl\x01x@x.org>, g@z.org, \"q\x02q\"@x.org\n"
                      "Subject: s\n\nbody\n";
  Result r = Run({"-t", "-i"}, input, nullptr, 7, &skipped);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_NE(r.file.find("\nrcpt a@x.org\nrcpt b@y.org\nrcpt d@z.org\nrcpt e@z.org\nrcpt f@z.org\n"
                        "rcpt g@z.org\ncontent\n"),
            std::string::npos)
      << r.file;
  // Nothing inside a bad element is guessed at: c@z.org sits in an
  // unclosed quoted string.
  EXPECT_EQ(r.file.find("rcpt c@z.org"), std::string::npos);
  std::vector<std::string> said;
  for (const SkippedRecipient& k : skipped) said.push_back(k.field + " " + k.text);
  // An empty element or a bare comment is no element (as ",,"): not reported.
  std::vector<std::string> want = {"To <unbalanced@x.org", "To Joe Smith", "Cc \"unclosed@x.org, c@z.org",
                                   "Cc @", "Cc two words@x.org", "Bcc a@", "Bcc " + longone.substr(0, 64),
                                   "Bcc N <ctl\x01x@x.org>", "Bcc \"q\x02q\"@x.org"};
  EXPECT_EQ(said, want);
  ASSERT_EQ(skipped.size(), want.size());
  EXPECT_NE(skipped[6].reason.find("320"), std::string::npos) << skipped[6].reason;
  EXPECT_NE(skipped[8].reason.find("control character"), std::string::npos) << skipped[8].reason;
  EXPECT_EQ(skipped[0].Describe(), "-t: skipped '<unbalanced@x.org' in the To header: cannot be parsed as an address");
  // What goes to the log is printable.
  for (const SkippedRecipient& k : skipped)
    for (char c : k.Describe()) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << k.Describe();
}

// A huge bad element is cut for the log.
TEST_F(InjectTest, ExtractRecipientsCutsAHugeSkippedElement) {
  std::vector<SkippedRecipient> skipped;
  Result r = Run({"-t", "-i"}, "To: a@x.org, <" + std::string(5000, 'b') + "\nSubject: s\n\nb\n", nullptr, 7,
                 &skipped);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].text, "<" + std::string(199, 'b') + "...");
}

// With nothing left, -t is a usage error that names what was skipped.
TEST_F(InjectTest, ExtractRecipientsAllBadIsUsage) {
  for (const char* header : {"To: <a@x.org\n", "To: Joe Smith\nCc: @\n", "Bcc: \"x@y\n",
                             "To: a@\nCc: ,,\nBcc: (c)\n"}) {
    Result r = Run({"-t", "-i"}, std::string(header) + "Subject: s\n\nb\n");
    EXPECT_EQ(r.status.kind(), Status::Kind::kUsage) << header << r.status.message();
    EXPECT_NE(r.status.message().find("no recipients found in the message header (-t); skipped"),
              std::string::npos)
        << r.status.message();
    EXPECT_EQ(r.file, "");
    EXPECT_TRUE(dir_.List("queue").empty());
  }
  // An argument still counts as a recipient.
  Result r = Run({"-t", "-i", "arg@x.org"}, "To: <a@x.org\nSubject: s\n\nb\n");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_NE(r.file.find("rcpt arg@x.org\n"), std::string::npos);
}

struct ErrorCase {
  std::vector<std::string> argv;
  std::string input;
  Status::Kind kind;
  std::string message_part;
};

TEST_F(InjectTest, Errors) {
  std::string loop;
  for (int i = 0; i < 51; ++i) loop += "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n";
  const ErrorCase errors[] = {
      {{}, "\nb\n", Status::Kind::kUsage, "no recipients"},
      {{"-t"}, "Subject: none\n\nb\n", Status::Kind::kUsage, "no recipients found"},
      {{"-s", "Subject", "a@x"}, "", Status::Kind::kUsage, "unknown option -s"},
      {{"a@x", "-oi"}, "", Status::Kind::kUsage, "starts with '-'"},
      {{""}, "", Status::Kind::kUsage, "empty recipient"},
      {{"a@x\nRCPT TO:<evil@x>"}, "", Status::Kind::kUsage, "line break"},
      {{std::string(321, 'a')}, "", Status::Kind::kUsage, "320"},
      {{"<a@x"}, "", Status::Kind::kUsage, "bad recipient"},
      {{"-f", "a\rb@x", "c@x"}, "", Status::Kind::kUsage, "sender"},
      {{"-f"}, "", Status::Kind::kUsage, "requires an argument"},
      {{"-i", "a@x"}, loop + "\nb\n", Status::Kind::kDataErr, "mail loop"},
      {{"-i", "a@x"}, "X: " + std::string(1100 * 1024, 'h') + "\n\nb\n", Status::Kind::kDataErr,
       "1 MiB"},
  };
  for (const ErrorCase& e : errors) {
    Result r = Run(e.argv, e.input);
    EXPECT_EQ(r.status.kind(), e.kind) << e.message_part << ": " << r.status.message();
    EXPECT_NE(r.status.message().find(e.message_part), std::string::npos) << r.status.message();
    EXPECT_EQ(r.file, "");
    EXPECT_TRUE(dir_.List("tmp").empty());
    EXPECT_TRUE(dir_.List("queue").empty());
  }
}

TEST_F(InjectTest, SizeLimit) {
  size_limit_ = 1000;
  Result r = Run({"-i", "a@x.org"}, "Subject: s\n\n" + std::string(5000, 'b') + "\n");
  EXPECT_EQ(r.status.kind(), Status::Kind::kDataErr);
  EXPECT_TRUE(dir_.List("tmp").empty());
  EXPECT_TRUE(dir_.List("queue").empty());
}

TEST_F(InjectTest, StreamsLargeBodyThroughSmallChunks) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "line " + std::to_string(i) + "\n";
  Result r = Run({"-i", "a@x.org"}, "Subject: big\n\n" + body, nullptr, 4093);
  ASSERT_TRUE(r.status.ok());
  EXPECT_NE(r.file.find("line 19999\r\nend "), std::string::npos);
}

// The wire form of a body, written the obvious way (the rules of
// line_reader.h and queue_file.h): lines end at LF or CRLF, a bare CR and
// NUL are dropped, a leading dot is doubled, and a line is folded with
// CRLF SP before it would pass 998 octets.
std::string WireReference(const std::string& body) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else if (c != '\r' && c != '\0') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  std::string out;
  for (std::string line : lines) {
    if (!line.empty() && line[0] == '.') line.insert(0, 1, '.');
    size_t column = 0;
    for (char c : line) {
      if (column == 998) {
        out += "\r\n ";
        column = 1;
      }
      out.push_back(c);
      ++column;
    }
    out += "\r\n";
  }
  return out;
}

// A body of several hundred KiB (so many batches of wire form, see
// Injector::FlushWire) with every kind of line: the queue file is the
// same however the input is cut, its content is the reference wire form,
// and the 8bit flag sees a high byte in the first line or in the last.
TEST_F(InjectTest, LargeBodiesAreTheSameWhateverTheChunks) {
  std::string body;
  for (int i = 0; i < 3000; ++i) {
    body += "line " + std::to_string(i) + "\n";
    if (i % 7 == 0) body += ".dot " + std::to_string(i) + "\r\n";
    if (i % 11 == 0) body += std::string(997 + i % 5, 'a' + i % 26) + "\n";
    if (i % 13 == 0) body += "bare\rcr and\0nul\r\n\n";
    if (i % 101 == 0) body += std::string(5000 + i, 'L') + "\r\n";
  }
  for (int where = 0; where < 3; ++where) {
    std::string b = body;
    if (where == 1) b.insert(0, "\xc3\xa9 first\n");
    if (where == 2) b += "last \xff";
    SCOPED_TRACE(where);
    std::string first;
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{4093}, size_t{65536}, b.size() + 100}) {
      Result r = Run({"-i", "a@x.org"}, "Subject: big\n\n" + b, nullptr, chunk);
      ASSERT_TRUE(r.status.ok()) << r.status.message();
      if (first.empty()) {
        first = r.file;
        std::string content = kReceived + "Subject: big\r\n" + kMsgId + kDate + kFrom + "\r\n" + WireReference(b);
        EXPECT_EQ(r.file, File(Head("rcpt a@x.org\n"), content, where != 0));
      } else {
        EXPECT_EQ(r.file, first) << "chunk " << chunk;
      }
    }
  }
}

// Every write, fsync, link and directory fsync of the commit path, failed
// with each of ENOSPC, EDQUOT and EIO: a temporary failure, and nothing
// left in tmp/ or queue/.
// A MessageSink in memory that counts its reservations.
class CountingSink : public MessageSink {
 public:
  Status Begin(const std::string&, mode_t, bool* exists) override {
    *exists = false;
    return Status::Ok();
  }
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  uint64_t Size() const override { return data_.size(); }
  Status Reserve(uint64_t bytes) override {
    reserved_.push_back(bytes);
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  void Abort() override {}
  const std::string& temp_path() const override { return path_; }

  std::string data_;
  std::vector<uint64_t> reserved_;
  std::string path_ = "tmp/x";
};

// The space checks of spool_min_free (InjectParams::space_check): each
// reserves the space up to the next one first, except the first check of
// an input the caller has read whole (Injector::WholeInputFollows), which
// checks without reserving; a refusal stops either kind.
TEST_F(InjectTest, AWholeInputIsCheckedWithoutItsFirstReservation) {
  const std::string small = "Subject: s\n\nbody\n";
  std::string big = "Subject: b\n\n";
  while (big.size() < 3 * kSpaceCheckBytes) big += std::string(70, 'y') + "\n";
  struct Case {
    const std::string* input;
    bool whole;
    bool floor_ok;
    size_t checks, reserves;
    bool ok;
  };
  const Case cases[] = {
      {&small, false, true, 1, 1, true},  {&small, true, true, 1, 0, true},
      {&small, true, false, 1, 0, false}, {&small, false, false, 1, 1, false},
      {&big, false, true, 4, 4, true},    {&big, true, true, 4, 3, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "size " << c.input->size() << " whole " << c.whole
                                      << " floor_ok " << c.floor_ok);
    Options opts;
    ASSERT_TRUE(ParseArgs({"sendmail", "-i", "a@x.org"}, &opts).ok());
    InjectParams p;
    p.opts = opts;
    p.domain = "example.com";
    p.hostname = "host.example.com";
    p.submitter = {1000, "alice", ""};
    p.now_micros = kNow;
    p.queue_id = kId;
    p.msgid_nonce = "NONCE1";
    size_t checks = 0;
    p.space_check = [&] {
      ++checks;
      return c.floor_ok ? Status::Ok() : Status::TempFail("below spool_min_free");
    };
    CountingSink sink;
    Injector inj(p, &sink);
    ASSERT_TRUE(inj.Start().ok());
    if (c.whole) inj.WholeInputFollows();
    inj.Feed(*c.input);
    Status s = inj.Finish();
    EXPECT_EQ(s.ok(), c.ok) << s.message();
    if (!c.ok) {
      EXPECT_EQ(s.kind(), Status::Kind::kTempFail);
    }
    EXPECT_EQ(checks, c.checks);
    EXPECT_EQ(sink.reserved_.size(), c.reserves);
    for (uint64_t r : sink.reserved_) EXPECT_GE(r, kSpaceCheckBytes);
  }
}

TEST_F(InjectTest, FaultsGiveTempFailAndLeaveNothing) {
  struct Point {
    Op op;
    int nth;
  };
  const Point points[] = {{Op::kCreate, 1}, {Op::kWrite, 1}, {Op::kWrite, 2}, {Op::kSync, 1},
                          {Op::kClose, 1},  {Op::kLink, 1},  {Op::kSyncDir, 1}};
  for (const Point& pt : points) {
    for (int err : {ENOSPC, EDQUOT, EIO}) {
      FaultEnv env;
      env.FailNth(pt.op, pt.nth, err);
      Result r = Run({"-i", "a@x.org"}, "Subject: s\n\nbody\n", &env);
      SCOPED_TRACE(::testing::Message() << "op " << static_cast<int>(pt.op) << " nth " << pt.nth
                                      << " errno " << err);
      EXPECT_EQ(r.status.kind(), Status::Kind::kTempFail) << r.status.message();
      EXPECT_EQ(r.status.exit_code(), 75);
      EXPECT_TRUE(dir_.List("tmp").empty());
      EXPECT_TRUE(dir_.List("queue").empty());
    }
  }
}

// A power cut right after a successful commit: the entry survives whole.
TEST_F(InjectTest, CommittedEntrySurvivesPowerCut) {
  FaultEnv env;
  Result r = Run({"-i", "a@x.org"}, "Subject: s\n\nbody\n", &env);
  ASSERT_TRUE(r.status.ok());
  env.DropUnsyncedData();
  EXPECT_EQ(ReadQueued(), r.file);
}

}  // namespace
}  // namespace relay
