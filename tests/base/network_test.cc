#include "relay/base/network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace relay {
namespace {

sockaddr_storage Addr(const char* text) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) in->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) in6->sin6_family = AF_INET6;
  return ss;
}

TEST(NetworkTest, ParseRefusesWhatItCannotMeanExactly) {
  Network n;
  EXPECT_TRUE(ParseNetwork("192.0.2.0/24", &n));
  EXPECT_EQ(n.prefix, 24);
  EXPECT_TRUE(ParseNetwork("192.0.2.7", &n));
  EXPECT_EQ(n.prefix, 32);
  EXPECT_TRUE(ParseNetwork("2001:db8::/32", &n));
  EXPECT_TRUE(ParseNetwork("0.0.0.0/0", &n));
  for (const char* bad : {"192.0.2.7/24", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1",
                          "192.0.2.0/ 24", "example.com/24", "192.0.2", "127.1/8", ""})
    EXPECT_FALSE(ParseNetwork(bad, &n)) << bad;
}

TEST(NetworkTest, Contains) {
  struct Case {
    const char* net;
    const char* addr;
    bool in;
  };
  const Case cases[] = {
      {"192.0.2.0/24", "192.0.2.200", true},  {"192.0.2.0/24", "192.0.3.1", false},
      {"192.0.2.0/25", "192.0.2.127", true},  {"192.0.2.0/25", "192.0.2.128", false},
      {"192.0.2.7", "192.0.2.7", true},       {"192.0.2.7", "192.0.2.8", false},
      {"0.0.0.0/0", "198.51.100.1", true},    {"0.0.0.0/0", "2001:db8::1", false},
      {"2001:db8::/32", "2001:db8:ffff::1", true}, {"2001:db8::/32", "2001:db9::1", false},
      // A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d.
      {"192.0.2.0/24", "::ffff:192.0.2.9", true}, {"::ffff:0:0/96", "192.0.2.9", false},
  };
  for (const Case& c : cases) {
    Network n;
    ASSERT_TRUE(ParseNetwork(c.net, &n)) << c.net;
    EXPECT_EQ(NetworkContains(n, Addr(c.addr)), c.in) << c.net << " " << c.addr;
  }
}

TEST(NetworkTest, Loopback) {
  EXPECT_TRUE(IsLoopback(Addr("127.0.0.1")));
  EXPECT_TRUE(IsLoopback(Addr("127.255.0.9")));
  EXPECT_TRUE(IsLoopback(Addr("::1")));
  EXPECT_TRUE(IsLoopback(Addr("::ffff:127.0.0.1")));
  EXPECT_FALSE(IsLoopback(Addr("128.0.0.1")));
  EXPECT_FALSE(IsLoopback(Addr("::2")));
  EXPECT_FALSE(IsLoopback(Addr("::ffff:10.0.0.1")));
}

TEST(NetworkTest, SocketAddresses) {
  sockaddr_storage ss;
  socklen_t len;
  ASSERT_TRUE(ParseSocketAddress("127.0.0.1:25", &ss, &len));
  EXPECT_EQ(AddrText(ss), "127.0.0.1");
  EXPECT_EQ(AddrPort(ss), 25);
  ASSERT_TRUE(ParseSocketAddress("[::1]:2525", &ss, &len));
  EXPECT_EQ(AddrText(ss), "::1");
  EXPECT_EQ(AddrPort(ss), 2525);
  ASSERT_TRUE(ParseSocketAddress("localhost:25", &ss, &len));
  EXPECT_TRUE(IsLoopback(ss));
  ASSERT_TRUE(ParseSocketAddress("0.0.0.0:25", &ss, &len));
  EXPECT_FALSE(IsLoopback(ss));
  for (const char* bad : {"127.0.0.1", "127.1:25", "example.com:25", "127.0.0.1:0", "[::1]"})
    EXPECT_FALSE(ParseSocketAddress(bad, &ss, &len)) << bad;
}

}  // namespace
}  // namespace relay
