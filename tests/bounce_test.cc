#include "relay/bounce.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace relay
