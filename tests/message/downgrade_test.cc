#include "relay/message/downgrade.h"

#include <gtest/gtest.h>

#include "relay/smtp/smtp_session.h"

namespace relay {
namespace {

TEST(Downgrade, Decision) {
  struct Case {
    const char* header;
    bool want;
  };
  const Case cases[] = {
      {"Subject: x\r\n\r\n", true},
      {"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", true},
      {"Content-Type: TEXT/HTML\r\n\r\n", true},
      {"Content-Type:\r\n text/plain\r\n\r\n", true},
      {"Subject: caf\xc3\xa9\r\n\r\n", false},  // 8-bit header: would need RFC 2047
      {"Content-Type: multipart/mixed; boundary=x\r\n\r\n", false},
      {"Content-Type: message/rfc822\r\n\r\n", false},
      {"Content-Type: application/octet-stream\r\n\r\n", false},
      {"Content-Transfer-Encoding: binary\r\n\r\n", false},
  };
  for (const Case& c : cases) EXPECT_EQ(CanDowngrade(c.header), c.want) << c.header;
}

std::string Convert(const std::string& in, size_t chunk) {
  Downgrader d;
  std::string out;
  for (size_t i = 0; i < in.size(); i += chunk) d.Feed(std::string_view(in).substr(i, chunk), &out);
  d.Finish(&out);
  return out;
}

TEST(Downgrade, QuotedPrintableBody) {
  std::string in =
      "Subject: s\r\nContent-Transfer-Encoding:\r\n 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "caf\xc3\xa9 = ok\r\n"
      "..starts with a dot\r\n"
      "trailing space \r\n" +
      std::string(80, 'x') + "\r\n";
  std::string want =
      "Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\nMIME-Version: 1.0\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "caf=C3=A9 =3D ok\r\n"
      "..starts with a dot\r\n"
      "trailing space=20\r\n" +
      std::string(75, 'x') + "=\r\n" + std::string(5, 'x') + "\r\n";
  for (size_t chunk : {1, 3, 7, 4096}) EXPECT_EQ(Convert(in, chunk), want) << chunk;
}

TEST(Downgrade, OutputIsSevenBitWithShortLines) {
  std::string body;
  for (int i = 0; i < 300; ++i) body += static_cast<char>(i % 256 == '\r' || i % 256 == '\n' ? 'a' : i % 256);
  std::string out = Convert("MIME-Version: 1.0\r\n\r\n" + body + "\r\n", 11);
  size_t col = 0;
  for (char c : out) {
    EXPECT_LT(static_cast<unsigned char>(c), 0x80);
    col = c == '\n' ? 0 : col + 1;
    EXPECT_LE(col, 77u);  // 76 + CR
  }
  EXPECT_EQ(out.find("MIME-Version: 1.0\r\nContent-Transfer"), 0u);  // not added twice
}

TEST(Downgrade, SessionConvertsInsteadOfBouncing) {
  ReplyParser p;
  auto R = [&](const std::string& t) {
    p.Feed(t);
    Reply r;
    std::string e;
    p.Next(&r, &e);
    return r;
  };
  SmtpSession s({"client.test", false, false, nullptr, false});
  s.OnReply(R("220 hi\r\n"));
  s.OnReply(R("250-x\r\n250 PIPELINING\r\n"));
  s.TakeOutput();
  MessageJob j;
  j.sender = "a@x";
  j.recipients = {"b@y"};
  j.eight_bit = true;
  j.can_downgrade = true;
  s.SendMessage(j);
  EXPECT_EQ(s.TakeOutput(), "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");  // no BODY=8BITMIME
  EXPECT_TRUE(s.downgrade());
}

}  // namespace
}  // namespace relay
