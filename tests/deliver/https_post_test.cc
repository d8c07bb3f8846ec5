// The two formats between relay-deliver/relayctl and relay-https-post.
#include "relay/deliver/https_post.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relay {
namespace {

TEST(HttpsPost, RequestRoundTrip) {
  HttpsRequest r;
  r.url = "https://login.example/tenant/oauth2/v2.0/token";
  r.ca_file = "/etc/relay/ca.pem";
  r.timeout = 30;
  r.connect_timeout = 10;
  r.form = "grant_type=refresh_token&refresh_token=a%0Ab\n\nstill the form";
  std::string wire;
  ASSERT_TRUE(EncodeHttpsRequest(r, &wire));
  HttpsRequest back;
  ASSERT_TRUE(ParseHttpsRequest(wire, &back));
  EXPECT_EQ(back.url, r.url);
  EXPECT_EQ(back.ca_file, r.ca_file);
  EXPECT_EQ(back.timeout, 30);
  EXPECT_EQ(back.connect_timeout, 10);
  EXPECT_EQ(back.form, r.form);  // line breaks in the form are its own bytes
}

TEST(HttpsPost, NoCaMeansTheSystemStore) {
  HttpsRequest r;
  r.url = "https://oauth2.googleapis.com/token";
  std::string wire;
  ASSERT_TRUE(EncodeHttpsRequest(r, &wire));
  EXPECT_EQ(wire.find("ca "), std::string::npos);
  HttpsRequest back;
  ASSERT_TRUE(ParseHttpsRequest(wire, &back));
  EXPECT_EQ(back.ca_file, "");
}

TEST(HttpsPost, LineBreaksInValuesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"https://x/\nca /tmp/evil", "https://x/\r", std::string("https://x/\0y", 12)}) {
    HttpsRequest r;
    r.url = bad;
    std::string wire;
    EXPECT_FALSE(EncodeHttpsRequest(r, &wire)) << bad;
  }
  HttpsRequest r;
  r.url = "https://x/";
  r.ca_file = "/a\nurl https://y/";
  std::string wire;
  EXPECT_FALSE(EncodeHttpsRequest(r, &wire));
}

TEST(HttpsPost, MalformedRequestsAreRefused) {
  HttpsRequest r;
  EXPECT_FALSE(ParseHttpsRequest("", &r));
  EXPECT_FALSE(ParseHttpsRequest("url https://x/\n", &r));                 // no blank line
  EXPECT_FALSE(ParseHttpsRequest("\n\nform", &r));                         // no url
  EXPECT_FALSE(ParseHttpsRequest("url https://x/\ntimeout 3s\n\n", &r));   // not a number
  EXPECT_FALSE(ParseHttpsRequest("url https://x/\nproxy http://p/\n\n", &r));  // unknown key
  EXPECT_TRUE(ParseHttpsRequest("url https://x/\n\n", &r));
}

TEST(HttpsPost, ReplyRoundTrip) {
  HttpsReply r;
  r.status = 400;
  r.body = "{\"error\": \"invalid_grant\"}\n\n";
  HttpsReply back;
  ASSERT_TRUE(ParseHttpsReply(EncodeHttpsReply(r), &back));
  EXPECT_EQ(back.status, 400);
  EXPECT_EQ(back.body, r.body);
  EXPECT_EQ(back.error, "");
}

TEST(HttpsPost, ErrorReplyIsOneLine) {
  HttpsReply r;
  r.error = "Couldn't connect to server:\nFailed to connect";
  std::string wire = EncodeHttpsReply(r);
  EXPECT_EQ(wire, "error Couldn't connect to server: Failed to connect\n");
  HttpsReply back;
  ASSERT_TRUE(ParseHttpsReply(wire, &back));
  EXPECT_EQ(back.status, 0);
  EXPECT_EQ(back.error, "Couldn't connect to server: Failed to connect");
}

TEST(HttpsPost, MalformedRepliesAreRefused) {
  HttpsReply r;
  EXPECT_FALSE(ParseHttpsReply("", &r));
  EXPECT_FALSE(ParseHttpsReply("status 200\n", &r));   // no blank line
  EXPECT_FALSE(ParseHttpsReply("status 20\n\n", &r));  // not an HTTP status
  EXPECT_FALSE(ParseHttpsReply("status x\n\n", &r));
  EXPECT_FALSE(ParseHttpsReply("error no newline", &r));
  EXPECT_FALSE(ParseHttpsReply("status 200\n\n" + std::string(kMaxHttpsBody + 1, 'a'), &r));
}

}  // namespace
}  // namespace relay
