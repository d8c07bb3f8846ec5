// auth_password_file = %d/NAME: a systemd credential, expanded from
// $CREDENTIALS_DIRECTORY (given here as a value, no environment read).
#include "relay/base/credentials.h"

#include <gtest/gtest.h>

#include "relay/base/config.h"

namespace relay {
namespace {

TEST(Credentials, PercentDIsTheCredentialsDirectory) {
  std::string path;
  ASSERT_TRUE(ExpandCredentialPath("%d/smarthost", "/run/credentials/relayd.service", &path).ok());
  EXPECT_EQ(path, "/run/credentials/relayd.service/smarthost");
  // A trailing slash on the variable is not doubled.
  ASSERT_TRUE(ExpandCredentialPath("%d/smarthost", "/run/credentials/relayd.service//", &path).ok());
  EXPECT_EQ(path, "/run/credentials/relayd.service/smarthost");
}

TEST(Credentials, OtherPathsAreKeptAsTheyAre) {
  std::string path;
  for (const char* dir : {static_cast<const char*>(nullptr), "/run/credentials/x"}) {
    ASSERT_TRUE(ExpandCredentialPath("/etc/relay/smarthost.secret", dir, &path).ok());
    EXPECT_EQ(path, "/etc/relay/smarthost.secret");
    // Only a leading %d/ is a specifier.
    ASSERT_TRUE(ExpandCredentialPath("/etc/relay/%d/x", dir, &path).ok());
    EXPECT_EQ(path, "/etc/relay/%d/x");
  }
}

TEST(Credentials, MissingVariableIsAConfigErrorThatSaysWhy) {
  for (const char* dir : {static_cast<const char*>(nullptr), ""}) {
    std::string path = "untouched";
    Status s = ExpandCredentialPath("%d/smarthost", dir, &path);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.exit_code(), 78);
    EXPECT_NE(s.message().find("auth_password_file %d/smarthost"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("$CREDENTIALS_DIRECTORY is not set"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("LoadCredential=smarthost:"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
    EXPECT_EQ(path, "untouched");
  }
}

TEST(Credentials, RelativeVariableIsRefused) {
  std::string path;
  Status s = ExpandCredentialPath("%d/smarthost", "run/credentials", &path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.exit_code(), 78);
  EXPECT_NE(s.message().find("not an absolute path"), std::string::npos) << s.message();
}

TEST(Credentials, ConfigTakesPercentDWithAName) {
  Config c;
  ASSERT_TRUE(ParseConfig("auth_password_file = %d/smarthost\n", "relay.conf", &c).ok());
  EXPECT_EQ(c.auth_password_file, "%d/smarthost");
  for (const char* bad : {"%d/", "%d/a/b", "%d/..", "%d/.", "%d", "%dx", "relative/file", "%s/x"}) {
    Config d;
    Status s = ParseConfig(std::string("auth_password_file = ") + bad + "\n", "relay.conf", &d);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.exit_code(), 78) << bad;
    EXPECT_NE(s.message().find("auth_password_file"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace relay
