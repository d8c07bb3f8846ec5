#include "relay/deliver/bounce.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "testutil/temp_dir.h"

namespace relay {
namespace {

TEST(Bounce, DeliveryStatusNotification) {
  Envelope o;
  o.id = "6610AAE723F5700TMGJ";
  o.arrival_micros = 1795548364000000;
  o.sender = "alice@example.com";
  o.envid = "env1";
  BounceParams p;
  p.reporting_host = "host.example.com";
  p.domain = "example.com";
  p.remote_mta = "mail.test";
  p.bounce_id = "6610AAE7FFFFF00AAAAA";
  p.to = "alice@example.com";
  p.now_micros = 1795548364000000;
  p.original = &o;
  p.failed = {{"bob@x.org", "root@example.com", "5.1.1", "550 5.1.1 no such user", false},
              {"c@x.org", "", "5.0.0", ".starts with a dot", false}};
  std::string head = BounceHead(p);
  for (const char* want : {
           "From: MAILER-DAEMON@example.com (Mail Delivery System)\r\n",
           "To: alice@example.com\r\n",
           "Subject: Undelivered Mail Returned to Sender\r\n",
           "Auto-Submitted: auto-replied\r\n",
           "Content-Type: multipart/report; report-type=delivery-status;\r\n"
           "\tboundary=\"6610AAE7FFFFF00AAAAA/host.example.com\"\r\n",
           "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; host.example.com\r\n",
           "Original-Envelope-Id: env1\r\n",
           "Final-Recipient: rfc822; bob@x.org\r\nOriginal-Recipient: rfc822; root@example.com\r\n"
           "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mail.test\r\n"
           "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n",
           "<c@x.org>: .starts with a dot\r\n",
           "Received: by host.example.com (relay)\r\n\tid 6610AAE7FFFFF00AAAAA; ",
           "Content-Type: message/rfc822\r\n\r\n",
       })
    EXPECT_NE(head.find(want), std::string::npos) << want << "\n---\n" << head;
  EXPECT_EQ(BounceTail(p), "\r\n--6610AAE7FFFFF00AAAAA/host.example.com--\r\n");
  p.headers_only = true;
  EXPECT_NE(BounceHead(p).find("Content-Type: text/rfc822-headers\r\n"), std::string::npos);
}

// RFC 6533: a UTF-8 address is "utf-8;" with its 7-bit xtext form in the
// delivery-status part, and the text part that shows it is labelled
// charset=utf-8 (8bit), never us-ascii.
TEST(Bounce, Utf8AddressIsLabelled) {
  Envelope o;
  o.id = "6610AAE723F5700TMGJ";
  o.sender = "alice@example.com";
  BounceParams p;
  p.reporting_host = "host.example.com";
  p.domain = "example.com";
  p.bounce_id = "6610AAE7FFFFF00AAAAA";
  p.to = "alice@example.com";
  p.original = &o;
  p.failed = {{"j\xC3\xBCrgen@m\xC3\xBCller.example", "\xE7\x94\xB0\xE4\xB8\xAD@example.jp", "5.1.1",
               "550 5.1.1 no such user", false},
              {"bob@x.org", "", "5.0.0", "550 no", false}};
  std::string head = BounceHead(p);
  for (const char* want : {
           "Content-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n",
           "<j\xC3\xBCrgen@m\xC3\xBCller.example>: 550 5.1.1 no such user\r\n",
           "Final-Recipient: utf-8; j\\x{FC}rgen@m\\x{FC}ller.example\r\n"
           "Original-Recipient: utf-8; \\x{7530}\\x{4E2D}@example.jp\r\n",
           "Final-Recipient: rfc822; bob@x.org\r\n",
       })
    EXPECT_NE(head.find(want), std::string::npos) << want << "\n---\n" << head;
  EXPECT_EQ(head.find("charset=us-ascii"), std::string::npos) << head;
  EXPECT_EQ(head.find("rfc822; j"), std::string::npos) << head;
  // The delivery-status part stays 7-bit.
  size_t status = head.find("message/delivery-status\r\n");
  ASSERT_NE(status, std::string::npos);
  for (char c : head.substr(status, head.find("Undelivered Message") - status))
    EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  // An ASCII-only bounce keeps us-ascii.
  p.failed = {{"bob@x.org", "", "5.0.0", "550 no", false}};
  EXPECT_NE(BounceHead(p).find("charset=us-ascii\r\n\r\n"), std::string::npos);
}

TEST(Bounce, Utf8AddrXtext) {
  EXPECT_EQ(Utf8AddrXtext("a@x"), "a@x");
  EXPECT_EQ(Utf8AddrXtext("a+b=c\\d e@x"), "a\\x{2B}b\\x{3D}c\\x{5C}d\\x{20}e@x");
  EXPECT_EQ(Utf8AddrXtext("\xF0\x9F\x98\x80@x"), "\\x{1F600}@x");  // 4-byte form
  EXPECT_EQ(Utf8AddrXtext("\xC3@x"), "\\x{FFFD}@x");                // cut sequence
  EXPECT_EQ(Utf8AddrXtext("a\xFF"), "a\\x{FFFD}");
  EXPECT_EQ(Utf8AddrXtext("a\xE7\x94"), "a\\x{FFFD}\\x{FFFD}");
  EXPECT_EQ(DsnAddress("a@x"), "rfc822; a@x");
  EXPECT_EQ(DsnAddress("\xC3\xA9@x"), "utf-8; \\x{E9}@x");
}

// The expiry reason says the lifetime exactly, also under an hour (it
// said "0 hours").
TEST(Bounce, LifetimeText) {
  EXPECT_EQ(LifetimeText(5 * 86400), "5 days");
  EXPECT_EQ(LifetimeText(86400), "1 day");
  EXPECT_EQ(LifetimeText(3600), "1 hour");
  EXPECT_EQ(LifetimeText(7200), "2 hours");
  EXPECT_EQ(LifetimeText(5400), "1 hour 30 minutes");
  EXPECT_EQ(LifetimeText(1800), "30 minutes");
  EXPECT_EQ(LifetimeText(60), "1 minute");
  EXPECT_EQ(LifetimeText(90), "1 minute 30 seconds");
  EXPECT_EQ(LifetimeText(2), "2 seconds");
  EXPECT_EQ(LifetimeText(1), "1 second");
  EXPECT_EQ(LifetimeText(0), "0 seconds");
  EXPECT_EQ(LifetimeText(86400 + 1), "1 day 1 second");
}

TEST(Bounce, EnvelopeGoesToTheSenderOrThePostmaster) {
  Envelope o;
  o.sender = "alice@example.com";
  Envelope b;
  ASSERT_TRUE(BounceEnvelope(o, {"root@example.com"}, "B1", 7, 42, &b));
  EXPECT_EQ(b.id, "B1");
  EXPECT_EQ(b.sender, "");
  EXPECT_EQ(b.arrival_micros, 7);
  EXPECT_EQ(b.uid, 42);
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].address, "alice@example.com");
  EXPECT_FALSE(b.double_bounce);

  o.sender = "";  // a bounce: its notice goes to the postmaster
  ASSERT_TRUE(BounceEnvelope(o, {"root@example.com", "admin@example.com"}, "B2", 7, 42, &b));
  ASSERT_EQ(b.recipients.size(), 2u);
  EXPECT_EQ(b.recipients[1].address, "admin@example.com");
  EXPECT_TRUE(b.double_bounce);

  o.double_bounce = true;  // a notice to the postmaster: never bounced again
  EXPECT_FALSE(BounceEnvelope(o, {"root@example.com"}, "B3", 7, 42, &b));
}

TEST(Bounce, HeadersOnlyWhenAskedEightBitOrTooBig) {
  Envelope e;
  BounceOriginal o{&e, -1, 0, 100, false};
  EXPECT_FALSE(BounceHeadersOnly(o, 100));
  o.content_size = 101;
  EXPECT_TRUE(BounceHeadersOnly(o, 100));
  o.content_size = 100;
  o.eight_bit = true;
  EXPECT_TRUE(BounceHeadersOnly(o, 100));
  o.eight_bit = false;
  e.dsn_ret = "HDRS";
  EXPECT_TRUE(BounceHeadersOnly(o, 100));
  e.dsn_ret = "FULL";
  EXPECT_FALSE(BounceHeadersOnly(o, 100));
}

// The whole notice: head, the original copied from its file (or its
// header only), tail; a read error stops it.
TEST(Bounce, WriteBounceCopiesTheOriginalFromItsFile) {
  testing::TempDir dir;
  std::string path = dir.path() + "/q";
  std::string prefix = "HEADRECORDS\n";
  std::string content = "Subject: s\r\n..dot\r\n\r\nbody\r\n";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs((prefix + content + "TRAILER").c_str(), f);
  std::fclose(f);
  FILE* r = std::fopen(path.c_str(), "r");
  ASSERT_NE(r, nullptr);
  Envelope e;
  e.id = "ORIG";
  BounceParams p;
  p.reporting_host = "h.example.com";
  p.bounce_id = "B1";
  p.original = &e;
  BounceOriginal o{&e, fileno(r), prefix.size(), content.size(), false};
  std::string out;
  auto sink = [&](std::string_view piece) {
    out += piece;
    return Status::Ok();
  };
  ASSERT_TRUE(WriteBounce(p, o, sink).ok());
  EXPECT_EQ(out, BounceHead(p) + content + BounceTail(p));
  out.clear();
  p.headers_only = true;
  ASSERT_TRUE(WriteBounce(p, o, sink).ok());
  EXPECT_EQ(out, BounceHead(p) + "Subject: s\r\n..dot\r\n" + BounceTail(p));
  out.clear();
  p.headers_only = false;
  o.content_size = 1000;  // the file ends early: a read error, no tail
  EXPECT_FALSE(WriteBounce(p, o, sink).ok());
  EXPECT_EQ(out.find(BounceTail(p)), std::string::npos);
  o.content_size = content.size();
  int calls = 0;
  Status refused = WriteBounce(p, o, [&](std::string_view) {
    ++calls;
    return Status::TempFail("disk full");
  });
  EXPECT_EQ(refused.message(), "disk full");
  EXPECT_EQ(calls, 1);  // nothing more after the sink's refusal
  std::fclose(r);
}

}  // namespace
}  // namespace relay
