#include "relay/message/address.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace relay {
namespace {

struct ExpectedMailbox {
  std::string display_name;
  std::string local_part;
  std::string domain;
};

struct ParseCase {
  std::string input;
  std::vector<ExpectedMailbox> mailboxes;
  int errors;
};

using namespace std::string_literals;

void CheckParse(const ParseCase& c) {
  SCOPED_TRACE("input: " + c.input);
  AddressList list = ParseAddressList(c.input);
  EXPECT_EQ(list.errors, c.errors);
  ASSERT_EQ(list.mailboxes.size(), c.mailboxes.size());
  for (size_t i = 0; i < c.mailboxes.size(); ++i) {
    EXPECT_EQ(list.mailboxes[i].display_name, c.mailboxes[i].display_name);
    EXPECT_EQ(list.mailboxes[i].local_part, c.mailboxes[i].local_part);
    EXPECT_EQ(list.mailboxes[i].domain, c.mailboxes[i].domain);
  }
}

TEST(Address, ParsesValidLists) {
  const ParseCase cases[] = {
      // Plain lists.
      {"a@x", {{"", "a", "x"}}, 0},
      {"a@x, Joe <b@y>", {{"", "a", "x"}, {"Joe", "b", "y"}}, 0},
      {"", {}, 0},
      {"   \r\n\t ", {}, 0},
      {",, a@x ,,", {{"", "a", "x"}}, 0},
      {"a@x,b@y", {{"", "a", "x"}, {"", "b", "y"}}, 0},
      // Display names.
      {"\"Doe, John\" <j@x>", {{"Doe, John", "j", "x"}}, 0},
      {"Joe Q. Public <j@x>", {{"Joe Q. Public", "j", "x"}}, 0},
      {"\"Joe \\\"Q\\\" Public\" <j@x>", {{"Joe \"Q\" Public", "j", "x"}}, 0},
      {"Joe \"Q\" Public <j@x>", {{"Joe Q Public", "j", "x"}}, 0},
      {"=?UTF-8?B?Sm9obg==?= <j@x>", {{"=?UTF-8?B?Sm9obg==?=", "j", "x"}}, 0},
      {"Joe\r\n Smith <j@x>", {{"Joe Smith", "j", "x"}}, 0},
      {"Joe(comment)Smith <j@x>", {{"Joe Smith", "j", "x"}}, 0},
      {"<j@x>", {{"", "j", "x"}}, 0},
      // Comments.
      {"a@x (Joe, <x>)", {{"", "a", "x"}}, 0},
      {"a@x (outer (inner, <y>) more), b@y", {{"", "a", "x"}, {"", "b", "y"}}, 0},
      {"(lead) a(c)@(d)x(e)", {{"", "a", "x"}}, 0},
      {"a@x (escaped \\) paren)", {{"", "a", "x"}}, 0},
      {"Joe <a@x (in angle)>", {{"Joe", "a", "x"}}, 0},
      // Local parts.
      {"john.doe@x", {{"", "john.doe", "x"}}, 0},
      {"john . doe@x", {{"", "john.doe", "x"}}, 0},
      {"\"john doe\"@x", {{"", "\"john doe\"", "x"}}, 0},
      {"\"john\".doe@x", {{"", "\"john\".doe", "x"}}, 0},
      {"\"a,b\"@x", {{"", "\"a,b\"", "x"}}, 0},
      {"john..doe@x", {{"", "john..doe", "x"}}, 0},
      {"j\xc3\xb6rg@b\xc3\xbc" "cher.de", {{"", "j\xc3\xb6rg", "b\xc3\xbc" "cher.de"}}, 0},
      {"user+tag@x", {{"", "user+tag", "x"}}, 0},
      // Domains.
      {"a@[127.0.0.1]", {{"", "a", "[127.0.0.1]"}}, 0},
      {"a@[IPv6:::1]", {{"", "a", "[IPv6:::1]"}}, 0},
      {"a@x . example . com", {{"", "a", "x.example.com"}}, 0},
      {"a@X.Example.COM", {{"", "a", "X.Example.COM"}}, 0},
      // Groups.
      {"team: a@x, b@y;", {{"", "a", "x"}, {"", "b", "y"}}, 0},
      {"undisclosed-recipients:;", {}, 0},
      {"Undisclosed recipients: ;, c@z", {{"", "c", "z"}}, 0},
      {"team: Joe <a@x>, , b@y; , c@z",
       {{"Joe", "a", "x"}, {"", "b", "y"}, {"", "c", "z"}},
       0},
      {"team: a@x", {{"", "a", "x"}}, 0},
      // Obsolete routes.
      {"<@r1,@r2:a@x>", {{"", "a", "x"}}, 0},
      {"Joe <@r1, ,@r2 : a@x>, b@y", {{"Joe", "a", "x"}, {"", "b", "y"}}, 0},
      // Folded values.
      {"a@x,\r\n\tb@y", {{"", "a", "x"}, {"", "b", "y"}}, 0},
      // Unqualified addresses.
      {"root", {{"", "root", ""}}, 0},
      {"root (Cron Daemon)", {{"", "root", ""}}, 0},
      {"Root <root>", {{"Root", "root", ""}}, 0},
      {"\"john doe\"", {{"", "\"john doe\"", ""}}, 0},
  };
  for (const ParseCase& c : cases) CheckParse(c);
}

TEST(Address, CountsErrorsAndKeepsTheRest) {
  const ParseCase errors[] = {
      {"<a@x", {}, 1},
      {"<a@x, b@y", {{"", "b", "y"}}, 1},
      {"a@, b@y", {{"", "b", "y"}}, 1},
      {"b@y, \"unterminated", {{"", "b", "y"}}, 1},
      {"\"unterminated, b@y", {}, 1},
      {"Joe Smith", {}, 1},
      {"Joe Smith, a@x", {{"", "a", "x"}}, 1},
      {"a@x (unclosed", {}, 1},
      {"a@x)", {}, 1},
      {"a@x]", {}, 1},
      {"a@[1.2.3.4", {}, 1},
      {"Joe <a@x> junk, b@y", {{"", "b", "y"}}, 1},
      {"a@x b@y", {}, 1},
      {"a@x; b@y", {}, 1},
      {"<>", {}, 1},
      {"@x", {}, 1},
      {"a@x..y", {}, 1},
      {"a@.x", {}, 1},
      {"a@x.", {}, 1},
      {"a\\b@x", {}, 1},
      {"a\x01@x, b@y", {{"", "b", "y"}}, 1},
      {"a@x\x7f", {}, 1},
      {"a@x\0, b@y"s, {{"", "b", "y"}}, 1},
      {"team: a@x, Joe Smith, b@y;", {{"", "a", "x"}, {"", "b", "y"}}, 1},
      {"team: a@x; junk", {{"", "a", "x"}}, 1},
      {"outer: inner: a@x;;", {}, 2},
      {": a@x;", {}, 1},
      {"<@r1 a@x>, b@y", {{"", "b", "y"}}, 1},
      {"<@:a@x>", {}, 1},
      {"\\", {}, 1},
      {"a@x (ends with backslash \\", {}, 1},
  };
  for (const ParseCase& c : errors) CheckParse(c);
}

TEST(Address, AddrSpec) {
  EXPECT_EQ(ParseAddressList("Joe <a@x>").mailboxes.at(0).addr_spec(), "a@x");
  EXPECT_EQ(ParseAddressList("root (Cron)").mailboxes.at(0).addr_spec(), "root");
  EXPECT_EQ(ParseAddressList("\"a b\"@x").mailboxes.at(0).addr_spec(), "\"a b\"@x");
}

TEST(Address, QualifyAtPointsAfterLocalPart) {
  struct {
    std::string input;
    size_t qualify_at;
  } cases[] = {
      {"root", 4},
      {"root (Cron Daemon)", 4},
      {"Root <root>", 10},
      {" Root <root>, b@y", 11},
      {"\"a b\"", 5},
      {"Joe <root (c)>", 9},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    AddressList list = ParseAddressList(c.input);
    ASSERT_FALSE(list.mailboxes.empty());
    EXPECT_EQ(list.mailboxes[0].qualify_at, c.qualify_at);
  }
}

TEST(Address, QualifyAddresses) {
  struct {
    std::string input;
    std::string domain;
    std::string expected;
  } cases[] = {
      {"root (Cron Daemon)", "example.com", "root@example.com (Cron Daemon)"},
      {" Root <root>, b@y", "example.com", " Root <root@example.com>, b@y"},
      {"a@x", "example.com", "a@x"},
      {"root, Joe Smith, admin", "example.com",
       "root@example.com, Joe Smith, admin@example.com"},
      {"team: root, b@y;", "example.com", "team: root@example.com, b@y;"},
      {"\"john doe\"", "example.com", "\"john doe\"@example.com"},
      {"<@r1:root>", "example.com", "<@r1:root@example.com>"},
      {"root\r\n\t(Cron)", "example.com", "root@example.com\r\n\t(Cron)"},
      {"root(c)", "example.com", "root@example.com(c)"},
      {"Root <root (comment)>", "example.com", "Root <root@example.com (comment)>"},
      {"john . doe", "example.com", "john . doe@example.com"},
      {"", "example.com", ""},
      {"root", "", "root"},
      {"root, <broken", "example.com", "root@example.com, <broken"},
      {"\"unterminated, root", "example.com", "\"unterminated, root"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(QualifyAddresses(c.input, c.domain), c.expected);
  }
}

TEST(Address, ParseSenderArgument) {
  struct {
    std::string input;
    std::string expected;
  } cases[] = {
      {"", ""},
      {"<>", ""},
      {"  <>  ", ""},
      {" \t ", ""},
      {"a@x", "a@x"},
      {" Joe <a@x> ", "a@x"},
      {"root", "root"},
      {"<root>", "root"},
      {"a@x, b@y", "a@x"},
      {"junk junk, b@y", "b@y"},
      {"\"john doe\"@x", "\"john doe\"@x"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    std::string sender = "unchanged";
    Status st = ParseSenderArgument(c.input, &sender);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(sender, c.expected);
  }
}

TEST(Address, ParseSenderArgumentErrors) {
  const std::string errors[] = {"Joe Smith", "<", "< >", "(comment only)", "a@",
                                "undisclosed-recipients:;", "a\nb c"};
  for (const std::string& input : errors) {
    SCOPED_TRACE(input);
    std::string sender;
    Status st = ParseSenderArgument(input, &sender);
    EXPECT_EQ(st.kind(), Status::Kind::kUsage);
    EXPECT_NE(st.message().find("no address in sender"), std::string::npos);
    EXPECT_EQ(st.message().find('\n'), std::string::npos);
  }
}

TEST(Address, CheckEnvelopeAddress) {
  const std::string ok[] = {"a@x", "root", "\"john doe\"@x", std::string(320, 'a')};
  for (const std::string& address : ok) {
    EXPECT_TRUE(CheckEnvelopeAddress(address).ok()) << address;
  }
}

TEST(Address, CheckEnvelopeAddressErrors) {
  struct {
    std::string input;
    std::string message_part;
  } errors[] = {
      {"", "empty"},
      {"a\r\n@x", "line break"},
      {"a\n@x", "line break"},
      {"a\r@x", "line break"},
      {"a\0b@x"s, "NUL"},
      {"a\tb@x", "control character"},
      {"a\x7f@x", "control character"},
      {std::string(321, 'a'), "longer than 320"},
  };
  for (const auto& c : errors) {
    SCOPED_TRACE(c.message_part);
    Status st = CheckEnvelopeAddress(c.input);
    EXPECT_EQ(st.kind(), Status::Kind::kUsage);
    EXPECT_NE(st.message().find(c.message_part), std::string::npos) << st.message();
  }
}

// SMTP paths (MAIL FROM, RCPT TO) go through the same parser as
// sendmail's arguments, stricter: one bare addr-spec, kept as written.
TEST(Address, ParseEnvelopePath) {
  for (const char* good : {"a@x.test", "root", "\"john doe\"@x.test", "\"a\\\"b\"@x.test", "a.b-c+d@x.test",
                           "a@[192.0.2.1]", "a@[IPv6:2001:db8::1]", "caf\xc3\xa9@x.test", "john..doe@x.test"}) {
    std::string got;
    Status st = ParseEnvelopePath(good, &got);
    EXPECT_TRUE(st.ok()) << good << ": " << st.message();
    EXPECT_EQ(got, good);
  }
  const struct {
    const char* path;
    const char* problem;
  } bad[] = {
      {"bad\\\"addr", "a backslash outside a quoted string"},
      {"two words@x.test", "white space outside a quoted string"},
      {"foo bar", "white space outside a quoted string"},
      {"a@x.test\t", "control character"},
      {"unbalanced\"q@x.test", "an unbalanced quote"},
      {"\"open@x.test", "an unbalanced quote"},
      {"Subject: foo", "':' outside a quoted string"},
      {"Subject:foo", "':' outside a quoted string"},
      {"team:a@x.test;", "':' outside a quoted string"},
      {"a@x.test,b@x.test", "',' outside a quoted string"},
      {"Joe<j@x.test>", "'<' outside a quoted string"},
      {"a(comment)@x.test", "a parenthesis (comment) outside a quoted string"},
      {"a@[192.0.2.1", "an unterminated domain literal"},
      {"a@x]", "']' outside a quoted string"},
      {"a@b@c", "not an address"},
      {"@x.test", "not an address"},
      {"a@", "not an address"},
      {"a@x\r\nRCPT TO:<b@y>", "line break"},
      {"", "empty address"},
  };
  for (const auto& c : bad) {
    std::string got = "unchanged";
    Status st = ParseEnvelopePath(c.path, &got);
    EXPECT_FALSE(st.ok()) << c.path;
    EXPECT_EQ(st.kind(), Status::Kind::kUsage) << c.path;
    EXPECT_NE(st.message().find(c.problem), std::string::npos) << c.path << ": " << st.message();
    EXPECT_EQ(got, "unchanged");
  }
}

// The path of MAIL FROM and RCPT TO, as the SMTP doors see it (the text
// between < and >): a valid source route is stripped (RFC 5321 3.3,
// C.3), a broken one or a route without a mailbox is refused, never taken
// for the null sender; address literals must be IPv4 or IPv6 addresses.
TEST(Address, ParseSmtpPath) {
  const struct {
    const char* path;
    const char* address;
  } good[] = {
      {"", ""},
      {"x@y.example", "x@y.example"},
      {"@a.example:x@y.example", "x@y.example"},
      {"@a.example,@b.example:x@y.example", "x@y.example"},
      {"@[192.0.2.9]:x@y.example", "x@y.example"},
      {"@[IPv6:2001:db8::9],@b-1.example:x@y.example", "x@y.example"},
      {"@a:root", "root"},
      {"x@[192.0.2.1]", "x@[192.0.2.1]"},
      {"x@[IPv6:2001:db8::1]", "x@[IPv6:2001:db8::1]"},
      {"x@[ipv6:::1]", "x@[ipv6:::1]"},
      {"@a.example:\"john doe\"@y.example", "\"john doe\"@y.example"},
  };
  for (const auto& c : good) {
    std::string got = "unchanged";
    Status st = ParseSmtpPath(c.path, &got);
    EXPECT_TRUE(st.ok()) << c.path << ": " << st.message();
    EXPECT_EQ(got, c.address) << c.path;
  }
  const struct {
    const char* path;
    const char* problem;
  } bad[] = {
      {"@a:", "a source route with no mailbox"},
      {"@a.example,@b.example:", "a source route with no mailbox"},
      {"@:a@b", "an empty domain in the source route"},
      {"@a,@:x@y", "an empty domain in the source route"},
      {"@a,:x@y", "an empty domain in the source route"},
      {"@@a:x@y", "a bad domain \"@a\" in the source route"},
      {"@[bad:x@y", "an unterminated domain literal in the source route"},
      {"@[300.1.1.1]:x@y", "a bad address literal \"[300.1.1.1]\" in the source route"},
      {"@a..b:x@y", "a bad domain \"a..b\" in the source route"},
      {"@-a:x@y", "a bad domain \"-a\" in the source route"},
      {"@a b:x@y", "a bad domain \"a b\" in the source route"},
      {"@a,b:x@y", "a bad domain \"b\" in the source route (each hop is @domain)"},
      {"@a:@b", "not an address"},
      {"@a:x@y:z", "':' outside a quoted string"},
      {"x@[1.2.3]", "a bad address literal \"[1.2.3]\""},
      {"x@[300.1.1.1]", "a bad address literal \"[300.1.1.1]\""},
      {"x@[IPv6:zz]", "a bad address literal \"[IPv6:zz]\""},
      {"x@[IPv6:192.0.2.1]", "a bad address literal"},
      {"x@[x-tag:foo]", "a bad address literal"},
      {"x@[]", "a bad address literal"},
      {"x@[1.2.3.4", "an unterminated domain literal"},
      {"@x.test", "not an address"},
  };
  for (const auto& c : bad) {
    std::string got = "unchanged";
    Status st = ParseSmtpPath(c.path, &got);
    EXPECT_FALSE(st.ok()) << c.path;
    EXPECT_EQ(st.kind(), Status::Kind::kUsage) << c.path;
    EXPECT_NE(st.message().find(c.problem), std::string::npos) << c.path << ": " << st.message();
    EXPECT_EQ(got, "unchanged") << c.path;
  }
}

// -f and -r follow the same rule for a source route and address literals:
// "@a:" is no null sender (sendmail exits 64 with one line).
TEST(Address, ParseSenderArgumentRoutesAndLiterals) {
  const struct {
    const char* value;
    const char* problem;
  } bad[] = {
      {"@a:", "a source route with no mailbox"},
      {"<@a:>", "a source route with no mailbox"},
      {" <@a,@b:> ", "a source route with no mailbox"},
      {"<@:a@b>", "an empty domain in the source route"},
      {"<@[bad:x@y>", "an unterminated domain literal in the source route"},
      {"x@[1.2.3]", "a bad address literal \"[1.2.3]\""},
      {"Joe <x@[IPv6:zz]>", "a bad address literal \"[IPv6:zz]\""},
  };
  for (const auto& c : bad) {
    std::string got = "unchanged";
    Status st = ParseSenderArgument(c.value, &got);
    EXPECT_EQ(st.kind(), Status::Kind::kUsage) << c.value;
    EXPECT_NE(st.message().find(c.problem), std::string::npos) << c.value << ": " << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos);
  }
  for (const char* v : {"<@a.example,@b.example:x@y.example>", "@a.example:x@y.example"}) {
    std::string got;
    Status st = ParseSenderArgument(v, &got);
    EXPECT_TRUE(st.ok()) << v << ": " << st.message();
    EXPECT_EQ(got, "x@y.example") << v;
  }
  std::string got;
  EXPECT_TRUE(ParseSenderArgument("x@[192.0.2.1]", &got).ok());
  EXPECT_EQ(got, "x@[192.0.2.1]");
}

// Inputs built to be expensive: they must parse quickly, without deep
// recursion, and give the obvious answer.
TEST(Address, HostileInputs) {
  const size_t n = 200000;
  std::string deep_open(n, '(');
  EXPECT_EQ(ParseAddressList(deep_open).errors, 1);

  std::string deep_closed = std::string(n, '(') + std::string(n, ')') + " a@x";
  AddressList list = ParseAddressList(deep_closed);
  EXPECT_EQ(list.errors, 0);
  ASSERT_EQ(list.mailboxes.size(), 1u);
  EXPECT_EQ(list.mailboxes[0].addr_spec(), "a@x");

  std::string many;
  for (int i = 0; i < 20000; ++i) many += "root,";
  std::string qualified = QualifyAddresses(many, "d");
  EXPECT_EQ(qualified.size(), many.size() + 20000 * 2);

  std::string angles(n, '<');
  EXPECT_EQ(ParseAddressList(angles).mailboxes.size(), 0u);
  std::string colons = std::string(n, ':') + "a@x";
  EXPECT_EQ(ParseAddressList(colons).mailboxes.size(), 0u);
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// Each skipped element's text, so that sendmail -t can say which it dropped.
TEST(Address, SkippedElementsAreNamed) {
  AddressList list = ParseAddressList("a@x, <b@y,  Joe\r\n Smith , c@z, \"open, d@w");
  ASSERT_EQ(list.errors, 3);
  EXPECT_EQ(list.skipped, (std::vector<std::string>{"<b@y", "Joe Smith", "\"open, d@w"}));
  ASSERT_EQ(list.mailboxes.size(), 2u);
  list = ParseAddressList("team: a@x, @, b@y; (c), <e");
  EXPECT_EQ(list.skipped, (std::vector<std::string>{"@", "<e"}));
  EXPECT_EQ(list.mailboxes.size(), 2u);
  EXPECT_TRUE(ParseAddressList("a@x,, (comment) ,b@y").skipped.empty());
}

}  // namespace
}  // namespace relay
