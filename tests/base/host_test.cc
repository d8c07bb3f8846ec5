#include "relay/base/host.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

struct FqdnCase {
  const char* name;
  std::string hosts;
  std::string short_name;
  std::string want;
};

TEST(Host, FqdnFromHosts) {
  const FqdnCase cases[] = {
      // Debian's installer writes this.
      {"debian",
       "127.0.0.1\tlocalhost\n127.0.1.1\tmyhost.example.com\tmyhost\n\n"
       "# The following lines are desirable for IPv6 capable hosts\n"
       "::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n",
       "myhost", "myhost.example.com"},
      {"short name first", "127.0.1.1 myhost myhost.example.com\n", "myhost", "myhost.example.com"},
      {"only the fqdn", "10.0.0.5 myhost.example.com\n", "myhost", "myhost.example.com"},
      {"spaces and tabs mixed", "  10.0.0.5 \t  myhost \t myhost.example.com  \t\n", "myhost",
       "myhost.example.com"},
      {"first matching name on the line", "10.0.0.5 myhost myhost.a.example myhost.b.example\n", "myhost",
       "myhost.a.example"},
      {"first matching line", "10.0.0.5 myhost.a.example\n10.0.0.6 myhost.b.example\n", "myhost",
       "myhost.a.example"},
      {"line naming the host without an fqdn is skipped", "10.0.0.5 myhost\n10.0.0.6 myhost.b.example\n",
       "myhost", "myhost.b.example"},
      {"case-insensitive", "10.0.0.5 MyHost.Example.COM MYHOST\n", "myhost", "MyHost.Example.COM"},
      {"no final newline", "10.0.0.5 myhost.example.com", "myhost", "myhost.example.com"},
      {"trailing comment", "10.0.0.5 myhost.example.com myhost # the box\n", "myhost", "myhost.example.com"},
      {"comment glued to a name", "10.0.0.5 myhost myhost.example.com#old\n", "myhost", "myhost.example.com"},
      // Nothing to find.
      {"empty", "", "myhost", ""},
      {"localhost only", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n", "myhost", ""},
      {"commented out", "# 127.0.1.1 myhost.example.com myhost\n", "myhost", ""},
      {"commented out after spaces", "   #127.0.1.1 myhost.example.com myhost\n", "myhost", ""},
      {"other host's line", "10.0.0.5 other.example.com other\n", "myhost", ""},
      {"prefix is not a match", "10.0.0.5 myhostx.example.com myhostx\n", "myhost", ""},
      {"suffix is not a match", "10.0.0.5 xmyhost.example.com xmyhost\n", "myhost", ""},
      {"name ending in a dot", "10.0.0.5 myhost. myhost\n", "myhost", ""},
      {"address only", "myhost.example.com\n", "myhost", ""},
      {"name in the address column", "myhost.example.com 10.0.0.5\n", "myhost", ""},
      {"another host's fqdn on our line is not ours", "10.0.0.5 myhost other.example.com\n", "myhost", ""},
  };
  for (const FqdnCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FqdnFromHosts(c.hosts, c.short_name), c.want);
  }
}

// /etc/hosts edited on another system can have CRLF line ends. The CR is
// white space to the resolver (glibc skips it with isspace), and it must
// never end up in the mail domain, where it would be written into headers.
TEST(Host, FqdnFromHostsWithCrlf) {
  const FqdnCase cases[] = {
      {"fqdn last", "127.0.0.1 localhost\r\n127.0.1.1 myhost myhost.example.com\r\n", "myhost",
       "myhost.example.com"},
      {"fqdn first", "127.0.1.1 myhost.example.com myhost\r\n", "myhost", "myhost.example.com"},
      {"fqdn alone", "127.0.1.1 myhost.example.com\r\n", "myhost", "myhost.example.com"},
  };
  for (const FqdnCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string got = FqdnFromHosts(c.hosts, c.short_name);
    EXPECT_EQ(got, c.want) << testing::PrintToString(got);
  }
}

}  // namespace
}  // namespace relay
