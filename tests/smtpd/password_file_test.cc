#include "relay/smtpd/password_file.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

// Made with `openssl passwd -6 -salt abcdefgh s3cret` and `-5 ... hunter2`.
const char kUsers[] =
    "# relay-smtpd users\n"
    "alice:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\n"
    "\n"
    "bob : $5$abcdefgh$XEPmEiAJvPG31m/DaIsyckkv.Sxd.8NrmElXxCKFQr/\r\n";

TEST(PasswordFileTest, ChecksCryptHashes) {
  std::map<std::string, std::string> users;
  ASSERT_TRUE(ParsePasswordFile(kUsers, &users).ok());
  EXPECT_EQ(users.size(), 2u);
  PasswordFile f(users);
  EXPECT_TRUE(f.Check("alice", "s3cret"));
  EXPECT_TRUE(f.Check("bob", "hunter2"));
  EXPECT_FALSE(f.Check("alice", "hunter2"));
  EXPECT_FALSE(f.Check("alice", "s3cret "));
  EXPECT_FALSE(f.Check("alice", ""));
  EXPECT_FALSE(f.Check("Alice", "s3cret"));
  EXPECT_FALSE(f.Check("carol", "s3cret"));
  EXPECT_FALSE(f.Check("", ""));
}

TEST(PasswordFileTest, NoUsersAcceptsNobody) {
  PasswordFile f(std::map<std::string, std::string>{});
  EXPECT_FALSE(f.Check("alice", "s3cret"));
}

// A hash libcrypt cannot use must never match, whatever the password.
TEST(PasswordFileTest, UnknownHashMethodNeverMatches) {
  PasswordFile f(std::map<std::string, std::string>{{"eve", "$9$nothing$here"}});
  EXPECT_FALSE(f.Check("eve", ""));
  EXPECT_FALSE(f.Check("eve", "$9$nothing$here"));
}

TEST(PasswordFileTest, BadLinesAreErrorsNamingTheLine) {
  std::map<std::string, std::string> users;
  for (const char* bad : {"alice\n", "alice:\n", ":$6$x$y\n", "alice:plaintext\n", "alice:DESxyz12\n",
                          "alice:$6$a$b c\n", "alice:*\n", "alice:$9$nothing$here\n", "alice:$6$\n"}) {
    Status s = ParsePasswordFile(bad, &users);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("line "), std::string::npos) << bad;
  }
  Status s = ParsePasswordFile(std::string(kUsers) + "carol:$9$x$y\n", &users);
  EXPECT_NE(s.message().find("line 5: libcrypt cannot use this hash ($9$...)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace relay
