#include "relay/relayd/sd_notify.h"

#include <gtest/gtest.h>
#include <stddef.h>

#include <string>

namespace relay {
namespace {

TEST(SdNotify, SocketAddresses) {
  sockaddr_un a;
  socklen_t len = 0;
  ASSERT_TRUE(NotifySocketAddress("/run/systemd/notify", &a, &len));
  EXPECT_STREQ(a.sun_path, "/run/systemd/notify");
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 20);
  ASSERT_TRUE(NotifySocketAddress("@relay/notify", &a, &len));
  EXPECT_EQ(a.sun_path[0], '\0');
  EXPECT_EQ(std::string(a.sun_path + 1, 12), "relay/notify");
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 13);  // no trailing NUL
  const char* bad[] = {"", "@", "/", "relative/path", "vsock:2:1234", " /x"};
  for (const char* b : bad) EXPECT_FALSE(NotifySocketAddress(b, &a, &len)) << b;
  std::string longest(sizeof a.sun_path - 1, 'x');
  longest[0] = '/';
  EXPECT_TRUE(NotifySocketAddress(longest, &a, &len));
  EXPECT_FALSE(NotifySocketAddress(longest + "x", &a, &len));
  std::string abstract(sizeof a.sun_path, 'x');
  abstract[0] = '@';
  EXPECT_TRUE(NotifySocketAddress(abstract, &a, &len));
  EXPECT_FALSE(NotifySocketAddress(abstract + "x", &a, &len));
  EXPECT_FALSE(NotifySocketAddress(std::string("/a\0b", 4), &a, &len));
}

TEST(SdNotify, WatchdogInterval) {
  struct Case {
    const char* usec;
    const char* pid;
    int64_t want;
  } cases[] = {
      {"30000000", nullptr, 30000000}, {"30000000", "42", 30000000}, {"30000000", "43", 0},
      {"30000000", "", 0},             {"30000000", "x", 0},          {nullptr, "42", 0},
      {"0", nullptr, 0},               {"-5", nullptr, 0},            {"5s", nullptr, 0},
      {"", nullptr, 0},                {"99999999999999999999", nullptr, 0},
  };
  for (const Case& c : cases) EXPECT_EQ(WatchdogMicros(c.usec, c.pid, 42), c.want) << (c.usec ? c.usec : "null");
}

}  // namespace
}  // namespace relay
