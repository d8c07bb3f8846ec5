// The OAuth 2.0 token store (token_store.h): the JSON format, the checks
// of the file (mode, owner, kind), atomic saves and the writers' lock, on
// files in a temporary directory.
#include "relay/deliver/token_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace relay {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/token_store_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/oauth-tokens.json";
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }
  void Write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }
  std::string dir_, path_;
};

OAuthToken Sample() {
  OAuthToken t;
  t.provider = "gmail";
  t.client_id = "client-1";
  t.client_secret = "SECRET-cs";
  t.token_endpoint = "https://127.0.0.1:9/token";
  t.scope = "https://mail.google.com/";
  t.refresh_token = "SECRET-rt";
  t.access_token = "SECRET-at";
  t.access_expiry = 1700000600;
  t.refresh_token_issued = 1690000000;
  t.last_refresh = 1700000000;
  return t;
}

TEST(TokenStoreFormat, RoundTripsEveryField) {
  TokenStore in;
  in.tokens["default"] = Sample();
  OAuthToken cc;
  cc.kind = "client_credentials";
  cc.tenant = "contoso.onmicrosoft.com";
  in.tokens["smtp.office365.com:587"] = cc;
  TokenStore out;
  ASSERT_TRUE(ParseTokenStore(SerializeTokenStore(in), "t", &out).ok());
  ASSERT_EQ(out.tokens.size(), 2u);
  const OAuthToken& a = out.tokens["default"];
  const OAuthToken b = Sample();
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.kind, "refresh");
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.client_secret, b.client_secret);
  EXPECT_EQ(a.token_endpoint, b.token_endpoint);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.refresh_token, b.refresh_token);
  EXPECT_EQ(a.access_token, b.access_token);
  EXPECT_EQ(a.access_expiry, b.access_expiry);
  EXPECT_EQ(a.refresh_token_issued, b.refresh_token_issued);
  EXPECT_EQ(a.last_refresh, b.last_refresh);
  EXPECT_EQ(out.tokens["smtp.office365.com:587"].kind, "client_credentials");
  EXPECT_EQ(out.tokens["smtp.office365.com:587"].tenant, "contoso.onmicrosoft.com");
}

TEST(TokenStoreFormat, FindFallsBackToDefault) {
  TokenStore s;
  EXPECT_EQ(s.Find("a:587"), nullptr);
  s.tokens["default"].client_id = "d";
  s.tokens["a:587"].client_id = "a";
  EXPECT_EQ(s.Find("a:587")->client_id, "a");
  EXPECT_EQ(s.Find("b:587")->client_id, "d");
  EXPECT_EQ(s.KeyFor("b:587"), "default");
}

TEST(TokenStoreFormat, RefusalsNameTheKeyNeverTheValue) {
  struct Case {
    const char* text;
    const char* names;
  } cases[] = {
      {"", "not valid JSON"},
      {"{\"tokens\": {\"default\": {\"refresh_token\": \"SECRET-x\"", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {"{\"version\": 2}", "unknown version"},
      {"{\"tokens\": []}", "\"tokens\" is not an object"},
      {"{\"tokens\": {\"default\": 5}}", "tokens.default is not an object"},
      {"{\"tokens\": {\"default\": {\"refresh_token\": 5}}}", "tokens.default.refresh_token is not a string"},
      {"{\"tokens\": {\"d\": {\"access_expiry\": \"SECRET-soon\"}}}", "tokens.d.access_expiry is not a number"},
      {"{\"tokens\": {\"d\": {\"access_expiry\": -1}}}", "tokens.d.access_expiry is not a number"},
      {"{\"tokens\": {\"d\": {\"kind\": \"SECRET-k\"}}}", "tokens.d.kind must be"},
  };
  for (const Case& c : cases) {
    TokenStore out;
    Status s = ParseTokenStore(c.text, "store", &out);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.kind(), Status::Kind::kConfig) << c.text;
    EXPECT_NE(s.message().find(c.names), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s.message();
  }
}

TEST(TokenStoreFormat, EmptyObjectIsAnEmptyStore) {
  TokenStore out;
  ASSERT_TRUE(ParseTokenStore("{}", "t", &out).ok());
  EXPECT_TRUE(out.tokens.empty());
}

TEST(TokenStoreFormat, PathDefaultsToTheSpoolsState) {
  Config cfg;
  cfg.spool_dir = "/var/spool/relay";
  EXPECT_EQ(TokenStorePath(cfg), "/var/spool/relay/state/oauth-tokens.json");
  cfg.oauth_token_file = "/etc/relay/tokens.json";
  EXPECT_EQ(TokenStorePath(cfg), "/etc/relay/tokens.json");
}

TEST_F(TokenStoreTest, SaveThenLoadWithMode0600) {
  TokenStore in;
  in.tokens["default"] = Sample();
  ASSERT_TRUE(SaveTokenStore(Env::Default(), path_, in).ok());
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  TokenStore out;
  bool missing = true;
  Status s = LoadTokenStore(path_, getuid(), &out, &missing);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(missing);
  EXPECT_EQ(out.tokens["default"].refresh_token, "SECRET-rt");
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0) << "no temporary left behind";
}

TEST_F(TokenStoreTest, MissingFileIsReported) {
  TokenStore out;
  bool missing = false;
  EXPECT_FALSE(LoadTokenStore(path_, getuid(), &out, &missing).ok());
  EXPECT_TRUE(missing);
}

TEST_F(TokenStoreTest, RefusesModesOthersCouldUse) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0700, 0610, 0601}) {
    Write("{}", mode);
    TokenStore out;
    Status s = LoadTokenStore(path_, getuid(), &out, nullptr);
    EXPECT_EQ(s.kind(), Status::Kind::kConfig) << std::oct << mode;
    EXPECT_NE(s.message().find("chmod 600 " + path_), std::string::npos) << s.message();
  }
  Write("{}", 0400);
  TokenStore out;
  EXPECT_TRUE(LoadTokenStore(path_, getuid(), &out, nullptr).ok()) << "read-only for its owner is fine";
}

TEST_F(TokenStoreTest, RefusesAnotherOwner) {
  Write("{}", 0600);
  TokenStore out;
  Status s = LoadTokenStore(path_, getuid() + 1, &out, nullptr);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_NE(s.message().find("not to the spool's owner"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("chown"), std::string::npos) << s.message();
}

TEST_F(TokenStoreTest, RefusesLinksAndDirectories) {
  Write("{}", 0600);
  std::string link = dir_ + "/link.json";
  ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
  TokenStore out;
  Status s = LoadTokenStore(link, getuid(), &out, nullptr);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s.message();
  std::string d = dir_ + "/d.json";
  ASSERT_EQ(mkdir(d.c_str(), 0700), 0);
  s = CheckTokenStoreFile(d, getuid());
  EXPECT_NE(s.message().find("not a regular file"), std::string::npos) << s.message();
}

TEST_F(TokenStoreTest, BadJsonInTheFileIsAConfigError) {
  Write("{\"tokens\": {\"default\": {\"refresh_token\": \"SECRET-rt\"", 0600);
  TokenStore out;
  Status s = LoadTokenStore(path_, getuid(), &out, nullptr);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_NE(s.message().find(path_), std::string::npos);
  EXPECT_EQ(s.message().find("SECRET"), std::string::npos);
}

TEST_F(TokenStoreTest, LockExcludesAnotherProcessUntilReleased) {
  TokenStoreLock lock;
  ASSERT_TRUE(lock.Acquire(path_, 1000).ok());
  pid_t pid = fork();
  if (pid == 0) {
    TokenStoreLock other;
    Status s = other.Acquire(path_, 100);
    _exit(s.temporary() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a second writer waits, then gives up";
  lock.Release();
  pid = fork();
  if (pid == 0) {
    TokenStoreLock other;
    _exit(other.Acquire(path_, 1000).ok() ? 0 : 1);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "free once released";
}

}  // namespace
}  // namespace relay
