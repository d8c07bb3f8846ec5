#include "relay/queue/queue_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace relay {
namespace {

using namespace std::string_literals;

void ExpectSameEnvelope(const Envelope& got, const Envelope& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.arrival_micros, want.arrival_micros);
  EXPECT_EQ(got.uid, want.uid);
  EXPECT_EQ(got.sender, want.sender);
  ASSERT_EQ(got.recipients.size(), want.recipients.size());
  for (size_t i = 0; i < want.recipients.size(); ++i) {
    EXPECT_EQ(got.recipients[i].address, want.recipients[i].address) << "recipient " << i;
    EXPECT_EQ(got.recipients[i].original, want.recipients[i].original) << "recipient " << i;
    EXPECT_EQ(got.recipients[i].notify, want.recipients[i].notify) << "recipient " << i;
  }
  EXPECT_EQ(got.dsn_ret, want.dsn_ret);
  EXPECT_EQ(got.envid, want.envid);
  EXPECT_EQ(got.body_type, want.body_type);
  EXPECT_EQ(got.queue_only, want.queue_only);
  EXPECT_EQ(got.double_bounce, want.double_bounce);
}

Envelope Minimal() {
  Envelope e;
  e.id = "19A3F2C41B2E5K3M2PQ";
  e.arrival_micros = 1795545000123456;
  e.uid = 1000;
  e.sender = "root@example.com";
  e.recipients = {{"admin@example.com", ""}};
  return e;
}

Envelope Full() {
  Envelope e = Minimal();
  e.recipients = {{"alice@example.com", "staff@example.com", "SUCCESS,FAILURE"},
                  {"bob@example.com", "", "NEVER"},
                  {"carol@example.com", "staff@example.com", ""}};
  e.dsn_ret = "HDRS";
  e.envid = "QQ314159";
  e.body_type = "8BITMIME";
  e.queue_only = true;
  e.double_bounce = true;
  return e;
}

TEST(QueueFile, EncodeHeadExactBytes) {
  std::string head;
  ASSERT_TRUE(EncodeHead(Minimal(), &head).ok());
  EXPECT_EQ(head,
            "relay-queue 2\n"
            "id 19A3F2C41B2E5K3M2PQ\n"
            "time 1795545000123456\n"
            "uid 1000\n"
            "from root@example.com\n"
            "rcpt admin@example.com\n"
            "content\n");

  ASSERT_TRUE(EncodeHead(Full(), &head).ok());
  EXPECT_EQ(head,
            "relay-queue 2\n"
            "id 19A3F2C41B2E5K3M2PQ\n"
            "time 1795545000123456\n"
            "uid 1000\n"
            "from root@example.com\n"
            "rcpt alice@example.com\n"
            "orcpt staff@example.com\n"
            "rcpt-notify SUCCESS,FAILURE\n"
            "rcpt bob@example.com\n"
            "rcpt-notify NEVER\n"
            "rcpt carol@example.com\n"
            "orcpt staff@example.com\n"
            "ret HDRS\n"
            "envid QQ314159\n"
            "body 8BITMIME\n"
            "queue-only\n"
            "double-bounce\n"
            "content\n");
}

TEST(QueueFile, EncodeHeadReplacesOutput) {
  std::string head = "left over";
  ASSERT_TRUE(EncodeHead(Minimal(), &head).ok());
  EXPECT_EQ(head.rfind("relay-queue 2\n", 0), 0u);
}

TEST(QueueFile, NullSender) {
  Envelope e = Minimal();
  e.sender = "";
  std::string head;
  ASSERT_TRUE(EncodeHead(e, &head).ok());
  EXPECT_NE(head.find("\nfrom \n"), std::string::npos) << head;

  Envelope got;
  size_t head_size = 0;
  bool incomplete = true;
  ASSERT_TRUE(ParseHead(head, &got, &head_size, &incomplete).ok());
  EXPECT_EQ(got.sender, "");

  // "from" without even the space is the null sender too.
  ASSERT_TRUE(ParseHead("relay-queue 1\nid X\nfrom\nrcpt a@x\ncontent\n", &got, &head_size, &incomplete).ok());
  EXPECT_EQ(got.sender, "");
}

TEST(QueueFile, RoundTrip) {
  Envelope odd = Full();
  odd.id = "id with spaces";
  odd.arrival_micros = std::numeric_limits<int64_t>::min();
  odd.uid = std::numeric_limits<int64_t>::max();
  odd.sender = "\"leading and trailing space \"@x";
  odd.recipients = {{"content", "rcpt x"}, {"\"a b\"@x", ""}, {"caf\xc3\xa9@x", "queue-only"}};
  odd.envid = "a+2Bb";

  Envelope negative = Minimal();
  negative.arrival_micros = -1;
  negative.uid = -1;

  Envelope many = Minimal();
  for (int i = 0; i < 1000; ++i) many.recipients.push_back({"r" + std::to_string(i) + "@x", ""});

  const Envelope cases[] = {Minimal(), Full(), odd, negative, many};
  for (const Envelope& want : cases) {
    SCOPED_TRACE(want.id);
    std::string head;
    ASSERT_TRUE(EncodeHead(want, &head).ok());
    const std::string content = "Subject: x\r\n\r\nbody\r\n";
    const std::string file = head + content + EncodeTrailer({content.size(), false});

    Envelope got;
    got.queue_only = !want.queue_only;  // must be reset by ParseHead
    got.double_bounce = !want.double_bounce;
    got.recipients = {{"stale", "stale"}};
    size_t head_size = 0;
    bool incomplete = true;
    Status s = ParseHead(file, &got, &head_size, &incomplete);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_FALSE(incomplete);
    EXPECT_EQ(head_size, head.size());
    EXPECT_EQ(file.substr(head_size, content.size()), content);
    ExpectSameEnvelope(got, want);
  }
}

TEST(QueueFile, EncodeRefusesLineBreaksAndNul) {
  struct {
    const char* record;
    void (*poison)(Envelope*, const std::string&);
  } const fields[] = {
      {"id", [](Envelope* e, const std::string& v) { e->id = v; }},
      {"from", [](Envelope* e, const std::string& v) { e->sender = v; }},
      {"rcpt", [](Envelope* e, const std::string& v) { e->recipients.back().address = v; }},
      {"orcpt", [](Envelope* e, const std::string& v) { e->recipients.back().original = v; }},
      {"rcpt-notify", [](Envelope* e, const std::string& v) { e->recipients.back().notify = v; }},
      {"ret", [](Envelope* e, const std::string& v) { e->dsn_ret = v; }},
      {"envid", [](Envelope* e, const std::string& v) { e->envid = v; }},
      {"body", [](Envelope* e, const std::string& v) { e->body_type = v; }},
  };
  const std::string values[] = {"a\nrcpt evil@x", "a\r", "\n", "a\0b"s, "\r\nqueue-only"};
  for (const auto& f : fields) {
    for (const std::string& v : values) {
      SCOPED_TRACE(std::string(f.record) + " = " + testing::PrintToString(v));
      Envelope e = Minimal();
      f.poison(&e, v);
      std::string head;
      Status s = EncodeHead(e, &head);
      EXPECT_FALSE(s.ok());
      EXPECT_EQ(s.kind(), Status::Kind::kSoftware);
      EXPECT_EQ(s.message(), "queue record '" + std::string(f.record) + "' holds a line break or NUL");
    }
  }
}

TEST(QueueFile, OptionalRecordsAreOptional) {
  std::string head;
  ASSERT_TRUE(EncodeHead(Minimal(), &head).ok());
  for (const char* key : {"orcpt", "rcpt-notify", "notify", "ret", "envid", "body", "queue-only", "double-bounce"})
    EXPECT_EQ(head.find(std::string("\n") + key), std::string::npos) << key;
  Envelope got;
  size_t head_size;
  bool incomplete;
  ASSERT_TRUE(ParseHead(head, &got, &head_size, &incomplete).ok());
  ExpectSameEnvelope(got, Minimal());
}

TEST(QueueFile, ParseAcceptsRecordsInAnyOrder) {
  const std::string head =
      "relay-queue 1\n"
      "queue-only\n"
      "double-bounce\n"
      "body 7BIT\n"
      "rcpt a@x\n"
      "orcpt list@x\n"
      "envid E\n"
      "from s@x\n"
      "ret FULL\n"
      "uid 0\n"
      "notify NEVER\n"
      "time 42\n"
      "rcpt b@x\n"
      "id ABC\n"
      "content\n"
      "From: s@x\r\n";
  Envelope got;
  size_t head_size = 0;
  bool incomplete = true;
  Status s = ParseHead(head, &got, &head_size, &incomplete);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(incomplete);
  EXPECT_EQ(head_size, head.size() - std::string("From: s@x\r\n").size());
  Envelope want;
  want.id = "ABC";
  want.arrival_micros = 42;
  want.uid = 0;
  want.sender = "s@x";
  // Version 1's message-wide notify goes to every recipient.
  want.recipients = {{"a@x", "list@x", "NEVER"}, {"b@x", "", "NEVER"}};
  want.dsn_ret = "FULL";
  want.envid = "E";
  want.body_type = "7BIT";
  want.queue_only = true;
  want.double_bounce = true;
  ExpectSameEnvelope(got, want);
}

// A version 1 file, as relay wrote them before per-recipient NOTIFY: its
// one notify record applies to every recipient.
TEST(QueueFile, ReadsVersion1) {
  const std::string head =
      "relay-queue 1\nid V1\ntime 1\nuid 0\nfrom s@x\nrcpt a@x\norcpt list@x\nrcpt b@x\n"
      "notify SUCCESS,FAILURE\nret HDRS\ncontent\n";
  Envelope got;
  size_t head_size = 0;
  bool incomplete = true;
  Status s = ParseHead(head, &got, &head_size, &incomplete);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(got.recipients.size(), 2u);
  EXPECT_EQ(got.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(got.recipients[0].original, "list@x");
  EXPECT_EQ(got.recipients[1].notify, "SUCCESS,FAILURE");
  // Without the record, no recipient has a NOTIFY.
  ASSERT_TRUE(ParseHead("relay-queue 1\nid V1\nrcpt a@x\ncontent\n", &got, &head_size, &incomplete).ok());
  EXPECT_EQ(got.recipients[0].notify, "");
  // Written again, it is a version 2 file with the same meaning.
  Envelope v1;
  ASSERT_TRUE(ParseHead(head, &v1, &head_size, &incomplete).ok());
  std::string v2;
  ASSERT_TRUE(EncodeHead(v1, &v2).ok());
  EXPECT_NE(v2.find("rcpt a@x\norcpt list@x\nrcpt-notify SUCCESS,FAILURE\nrcpt b@x\nrcpt-notify SUCCESS,FAILURE\n"),
            std::string::npos) << v2;
  ASSERT_TRUE(ParseHead(v2, &got, &head_size, &incomplete).ok());
  ExpectSameEnvelope(got, v1);
}

TEST(QueueFile, IncompleteHead) {
  std::string head;
  ASSERT_TRUE(EncodeHead(Full(), &head).ok());
  // Every proper prefix of a head is merely incomplete, never malformed.
  for (size_t n = 0; n < head.size(); ++n) {
    SCOPED_TRACE(n);
    Envelope got;
    size_t head_size = 12345;
    bool incomplete = false;
    Status s = ParseHead(std::string_view(head).substr(0, n), &got, &head_size, &incomplete);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_TRUE(incomplete);
    EXPECT_EQ(s.message(), "queue file head is incomplete");
    EXPECT_EQ(head_size, 12345u);
  }
}

struct ErrorCase {
  std::string data;
  std::string message;
};

TEST(QueueFile, ParseErrors) {
  const ErrorCase errors[] = {
      {"relay-queue 3\nid X\nrcpt a@x\ncontent\n", "queue file line 1: not a relay queue file (bad magic)"},
      {"relay-queue 0\nid X\nrcpt a@x\ncontent\n", "queue file line 1: not a relay queue file (bad magic)"},
      // Each version has its own NOTIFY record: per recipient in 2, per
      // message in 1.
      {"relay-queue 2\nid X\nrcpt a@x\nnotify NEVER\ncontent\n", "queue file line 4: unknown record 'notify'"},
      {"relay-queue 1\nid X\nrcpt a@x\nrcpt-notify NEVER\ncontent\n",
       "queue file line 4: unknown record 'rcpt-notify'"},
      {"relay-queue 2\nid X\nrcpt-notify NEVER\nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'rcpt-notify'"},
      {"relay-queue 2\nid X\nrcpt a@x\nrcpt-notify \ncontent\n", "queue file line 4: bad value for 'rcpt-notify'"},
      {"relay-queue 2\nid X\nrcpt a@x\nrcpt-notify NEVER\nrcpt-notify FAILURE\ncontent\n",
       "queue file line 5: bad value for 'rcpt-notify'"},
      {"relay-queue 1 \nid X\nrcpt a@x\ncontent\n", "queue file line 1: not a relay queue file (bad magic)"},
      {"relay-queue 1\r\nid X\nrcpt a@x\ncontent\n", "queue file line 1: not a relay queue file (bad magic)"},
      {"\nrelay-queue 1\n", "queue file line 1: not a relay queue file (bad magic)"},
      {"From root Tue Nov 24 19:30:00 2026\n", "queue file line 1: not a relay queue file (bad magic)"},
      {"relay-queue 1\nid X\nhops 3\nrcpt a@x\ncontent\n", "queue file line 3: unknown record 'hops'"},
      {"relay-queue 1\nid X\nRCPT a@x\ncontent\n", "queue file line 3: unknown record 'RCPT'"},
      {"relay-queue 1\nid X\n\nrcpt a@x\ncontent\n", "queue file line 3: unknown record ''"},
      {"relay-queue 1\nid X\n rcpt a@x\ncontent\n", "queue file line 3: unknown record ''"},
      {"relay-queue 1\nid X\ncontent \n", "queue file line 3: unknown record 'content'"},
      {"relay-queue 1\nid X\ntime soon\nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'time'"},
      {"relay-queue 1\nid X\ntime \nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'time'"},
      {"relay-queue 1\nid X\ntime 12 \nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'time'"},
      {"relay-queue 1\nid X\ntime 99999999999999999999\nrcpt a@x\ncontent\n",
       "queue file line 3: bad value for 'time'"},
      {"relay-queue 1\nid X\nuid root\nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'uid'"},
      {"relay-queue 1\nid X\nuid\nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'uid'"},
      {"relay-queue 1\nid X\nrcpt \ncontent\n", "queue file line 3: bad value for 'rcpt'"},
      {"relay-queue 1\nid X\nrcpt\ncontent\n", "queue file line 3: bad value for 'rcpt'"},
      {"relay-queue 1\nid X\norcpt a@x\nrcpt a@x\ncontent\n", "queue file line 3: bad value for 'orcpt'"},
      {"relay-queue 1\nid X\nrcpt a@x\norcpt \ncontent\n", "queue file line 4: bad value for 'orcpt'"},
      // A head must name the entry and at least one recipient.
      {"relay-queue 1\ncontent\n", "queue file head lacks its id or recipients"},
      {"relay-queue 1\nid X\ncontent\n", "queue file head lacks its id or recipients"},
      {"relay-queue 1\nrcpt a@x\ncontent\n", "queue file head lacks its id or recipients"},
      {"relay-queue 1\nid \nrcpt a@x\ncontent\n", "queue file head lacks its id or recipients"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE(testing::PrintToString(e.data));
    Envelope got;
    size_t head_size = 12345;
    bool incomplete = true;
    Status s = ParseHead(e.data, &got, &head_size, &incomplete);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_EQ(s.message(), e.message);
    EXPECT_FALSE(incomplete) << "a malformed head is not just incomplete";
    EXPECT_EQ(head_size, 12345u);
  }
}

// Issue 20: a file planted in queue/ must not put anything into MAIL FROM
// or RCPT TO (or their parameters) that the injector would not write.
// Every envelope value is checked with the injector's address parser.
TEST(QueueFile, ForgedEnvelopesAreRefused) {
  const std::string pre = "relay-queue 1\nid X\n";
  const ErrorCase errors[] = {
      {pre + "from a@x\rRCPT TO:<evil@y>\nrcpt b@x\ncontent\n", "record 'from a@x?RCPT TO:<evil@y>': address contains a line break"},
      {pre + "from a@x> SIZE=1\nrcpt b@x\ncontent\n", "record 'from a@x> SIZE=1': not a single plain address"},
      {pre + "from a@x b@y\nrcpt b@x\ncontent\n", "record 'from a@x b@y': not a single plain address"},
      {pre + "from  a@x\nrcpt b@x\ncontent\n", "record 'from  a@x': not a single plain address"},
      {pre + "rcpt b@x\rDATA\ncontent\n", "record 'rcpt b@x?DATA': address contains a line break"},
      {pre + "rcpt b@x NOTIFY=NEVER\ncontent\n", "record 'rcpt b@x NOTIFY=NEVER': not a single plain address"},
      {pre + "rcpt b@x,c@y\ncontent\n", "record 'rcpt b@x,c@y': not a single plain address"},
      {pre + "rcpt <b@x>\ncontent\n", "record 'rcpt <b@x>': not a single plain address"},
      {pre + "rcpt b@x (comment)\ncontent\n", "record 'rcpt b@x (comment)': not a single plain address"},
      {pre + "rcpt b@x\t\ncontent\n", "record 'rcpt b@x?': address contains a control character"},
      {pre + "rcpt " + std::string(321, 'a') + "\ncontent\n", "address longer than 320 characters"},
      {pre + "rcpt b@x\norcpt a\x01@x\ncontent\n", "record 'orcpt': address contains a control character"},
      {pre + "rcpt b@x\nnotify NEVER\rRSET\ncontent\n", "the NOTIFY of rcpt b@x, 'NEVER?RSET', is not a DSN NOTIFY value"},
      {"relay-queue 2\nid X\nrcpt b@x\nrcpt-notify FAILURE\rRSET\ncontent\n",
       "the NOTIFY of rcpt b@x, 'FAILURE?RSET', is not a DSN NOTIFY value"},
      {pre + "rcpt b@x\nnotify SUCCESS ORCPT=x\ncontent\n", "is not a DSN NOTIFY value"},
      {pre + "rcpt b@x\nret FULL X=1\ncontent\n", "record 'ret FULL X=1' is not FULL or HDRS"},
      {pre + "rcpt b@x\nbody 8BITMIME SMTPUTF8\ncontent\n", "is not 7BIT or 8BITMIME"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE(testing::PrintToString(e.data));
    Envelope got;
    size_t head_size = 0;
    bool incomplete = true;
    Status s = ParseHead(e.data, &got, &head_size, &incomplete);
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_NE(s.message().find(e.message), std::string::npos) << s.message();
    EXPECT_FALSE(incomplete);
  }
  // What the injector writes passes: quoted local parts, UTF-8, the null
  // sender, an unqualified local name, a domain literal.
  for (const char* a : {"\"a b\"@x", "caf\xc3\xa9@x", "root", "u@[192.0.2.1]", "first.last+tag@example.com"}) {
    Envelope got;
    size_t head_size = 0;
    bool incomplete = true;
    Status s = ParseHead(pre + "from \nrcpt " + a + "\ncontent\n", &got, &head_size, &incomplete);
    EXPECT_TRUE(s.ok()) << a << ": " << s.message();
  }
}

struct TrailerCase {
  std::string tail;
  uint64_t size;
  bool eight_bit;
  size_t trailer_size;
};

TEST(QueueFile, Trailer) {
  EXPECT_EQ(EncodeTrailer({0, false}), "end 0 7bit\n");
  EXPECT_EQ(EncodeTrailer({2905, true}), "end 2905 8bit\n");
  EXPECT_EQ(EncodeTrailer({UINT64_MAX, false}), "end 18446744073709551615 7bit\n");

  const TrailerCase cases[] = {
      {"end 0 7bit\n", 0, false, 11},
      {"end 2905 8bit\n", 2905, true, 14},
      {"body\r\n.\r\nend 9 7bit\n", 9, false, 11},
      {"end 1 7bit\nend 2 8bit\n", 2, true, 11},
      {"\nend 18446744073709551615 7bit\n", UINT64_MAX, false, 30},
  };
  for (const TrailerCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.tail));
    Trailer t;
    size_t n = 0;
    Status s = ParseTrailer(c.tail, &t, &n);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(t.content_size, c.size);
    EXPECT_EQ(t.eight_bit, c.eight_bit);
    EXPECT_EQ(n, c.trailer_size);
  }

  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{123456789}, UINT64_MAX}) {
    for (bool eight : {false, true}) {
      std::string enc = "content\r\n" + EncodeTrailer({size, eight});
      Trailer t;
      size_t n = 0;
      ASSERT_TRUE(ParseTrailer(enc, &t, &n).ok());
      EXPECT_EQ(t.content_size, size);
      EXPECT_EQ(t.eight_bit, eight);
      EXPECT_EQ(n, enc.size() - 9);
    }
  }
}

TEST(QueueFile, TrailerErrors) {
  const ErrorCase errors[] = {
      {"", "queue file has no end record"},
      {"\n", "queue file has no end record"},
      {"\n\n", "queue file has no end record"},
      {"end 5 7bit", "queue file has no end record"},
      {"end 5 7bit\n\n", "queue file has no end record"},
      {"body\r\n", "queue file has no end record"},
      {"END 5 7bit\n", "queue file has no end record"},
      {"xend 5 7bit\n", "queue file has no end record"},
      {"end\n", "queue file has no end record"},
      {"end 5\n", "queue file end record is malformed"},
      {"end 5 \n", "queue file end record is malformed"},
      {"end x 7bit\n", "queue file end record is malformed"},
      {"end -5 7bit\n", "queue file end record is malformed"},
      {"end  5 7bit\n", "queue file end record is malformed"},
      {"end 18446744073709551616 7bit\n", "queue file end record is malformed"},
      {"end 5 9bit\n", "queue file end record is malformed"},
      {"end 5 7bit \n", "queue file end record is malformed"},
      {"end 5 7BIT\n", "queue file end record is malformed"},
      {"end 5 7bit\r\n", "queue file end record is malformed"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE(testing::PrintToString(e.data));
    Trailer t;
    size_t n = 0;
    Status s = ParseTrailer(e.data, &t, &n);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_EQ(s.message(), e.message);
  }
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// relayctl show prints the header block that ContentHeaderBlock finds
// through the head's parser, whatever the records hold.
TEST(QueueFile, ContentHeaderBlockStartsWhereTheParserSaysTheContentDoes) {
  Envelope e;
  e.id = "0000000000000001A";
  e.sender = "content@example.org";
  e.recipients = {{"content@example.org", "rfc822;content"}};
  std::string head;
  ASSERT_TRUE(EncodeHead(e, &head).ok());
  std::string content = "Subject: content\r\nX: y\r\n\r\ncontent\r\n\r\nmore\r\n";
  std::string file = head + content + EncodeTrailer(Trailer{content.size(), false});
  std::string_view block;
  ASSERT_TRUE(ContentHeaderBlock(file, &block).ok());
  EXPECT_EQ(block, "Subject: content\r\nX: y");

  std::string headers_only = head + "Subject: x\r\n" + EncodeTrailer(Trailer{12, false});
  ASSERT_TRUE(ContentHeaderBlock(headers_only, &block).ok());
  EXPECT_EQ(block, "") << "no blank line: no header block, as before";

  EXPECT_EQ(ContentHeaderBlock(head.substr(0, head.size() - 3), &block).kind(), Status::Kind::kDataErr);
  EXPECT_EQ(ContentHeaderBlock("not a queue file\ncontent\nSubject: x\r\n\r\n", &block).kind(),
            Status::Kind::kDataErr);
}

}  // namespace
}  // namespace relay
