// Address literals and the RFC 8305 ordering (resolver.h): pure.
#include "relay/deliver/resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace relay {
namespace {

uint16_t PortOf(const SockAddr& a) {
  if (a.family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&a.addr)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_port);
}

TEST(Resolver, AddressLiteralsAreTheirOwnAnswer) {
  SockAddr a;
  ASSERT_TRUE(AddressLiteral("127.0.0.1", 2525, &a));
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.len, sizeof(sockaddr_in));
  EXPECT_EQ(a.text, "127.0.0.1");
  EXPECT_EQ(PortOf(a), 2525);
  ASSERT_TRUE(AddressLiteral("::1", 25, &a));
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.len, sizeof(sockaddr_in6));
  EXPECT_EQ(PortOf(a), 25);
  EXPECT_TRUE(AddressLiteral("2001:db8::25", 587, &a));
  EXPECT_TRUE(AddressLiteral("::ffff:127.0.0.1", 587, &a));
}

TEST(Resolver, NamesAndLenientFormsAreNotLiterals) {
  SockAddr a;
  a.text = "untouched";
  for (const char* name : {"localhost", "smtp.gmail.com", "127.1", "0x7f.0.0.1", "127.0.0.1.",
                           "127.0.0.1 ", " 127.0.0.1", "[::1]", "::1%lo", "256.0.0.1", ""}) {
    EXPECT_FALSE(AddressLiteral(name, 25, &a)) << "'" << name << "'";
  }
  EXPECT_EQ(a.text, "untouched") << "nothing written for a name";
}

TEST(Resolver, ResolvingALiteralAsksNoResolver) {
  // No c-ares channel is made for a literal, so this holds with no
  // nameserver at all; tests/e2e/no_dns_test.sh shows that no query is sent.
  std::vector<SockAddr> out;
  ASSERT_TRUE(Resolve("127.0.0.1", 25, 1000, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "127.0.0.1");
}

TEST(Resolver, FamiliesAlternateStartingWithIpv6) {
  SockAddr v4a, v4b, v6a;
  ASSERT_TRUE(AddressLiteral("192.0.2.1", 25, &v4a));
  ASSERT_TRUE(AddressLiteral("192.0.2.2", 25, &v4b));
  ASSERT_TRUE(AddressLiteral("2001:db8::1", 25, &v6a));
  std::vector<SockAddr> out = InterleaveFamilies({v4a, v4b, v6a});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text, "2001:db8::1");
  EXPECT_EQ(out[1].text, "192.0.2.1");
  EXPECT_EQ(out[2].text, "192.0.2.2");
  EXPECT_TRUE(InterleaveFamilies({}).empty());
}

}  // namespace
}  // namespace relay
