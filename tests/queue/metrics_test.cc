// The metrics text (metrics.h): every metric with its value, the escaping
// of label values, and the shape every line must have.
#include "relay/queue/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "relay/queue/queue_id.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

constexpr int64_t kNow = 1700000000000000;

// The sample lines of text, keyed by "name{labels}".
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    out[std::string(line.substr(0, sp))] = std::string(line.substr(sp + 1));
  }
  return out;
}

Health TwoHosts() {
  Health h;
  h.bounces_total = 4;
  h.corrupt_total = 5;
  h.failed_total = 6;
  h.delay_notices_total = 7;
  h.last_sent = kNow - 1500000;
  SmarthostHealth* a = FindHost(&h, "a.example:587");
  a->sent_total = 10;
  a->deferred_total = 2;
  a->bounced_total = 1;
  a->last_success = kNow - 1500000;
  SmarthostHealth* b = FindHost(&h, "[::1]:25");
  b->failures = 3;
  b->auth_failing = true;
  b->pause_until = kNow + 60000000;
  b->pause_reason = "quota: 550 \"daily\" limit\\x";
  b->token_expiry = kNow + 3600000000;
  return h;
}

QueueSummary SomeQueue() {
  QueueSummary q;
  q.queued = {3, MakeQueueId(kNow - 90 * 1000000LL, 1)};
  q.held = {2, MakeQueueId(kNow - 7200 * 1000000LL, 1)};
  q.failed = {1, MakeQueueId(kNow - 10 * 1000000LL, 1)};
  q.corrupt = {8, MakeQueueId(kNow, 1)};
  return q;
}

TEST(Metrics, EveryMetricHasItsValue) {
  std::map<std::string, std::string> s = Samples(EncodeMetrics(TwoHosts(), SomeQueue(), kNow));
  std::map<std::string, std::string> want = {
      {"relay_queue_messages", "3"},
      {"relay_queue_oldest_age_seconds", "90"},
      {"relay_queue_held_messages", "2"},
      {"relay_queue_held_oldest_age_seconds", "7200"},
      {"relay_queue_failed_messages", "1"},
      {"relay_queue_failed_oldest_age_seconds", "10"},
      {"relay_queue_corrupt_messages", "8"},
      {"relay_last_success_timestamp_seconds", "1699999998.500000"},
      {"relay_bounces_generated_total", "4"},
      {"relay_corrupt_entries_total", "5"},
      {"relay_failed_entries_total", "6"},
      {"relay_delay_notices_total", "7"},
      {"relay_messages_sent_total{smarthost=\"a.example:587\"}", "10"},
      {"relay_messages_deferred_total{smarthost=\"a.example:587\"}", "2"},
      {"relay_messages_bounced_total{smarthost=\"a.example:587\"}", "1"},
      {"relay_messages_sent_total{smarthost=\"[::1]:25\"}", "0"},
      {"relay_smarthost_up{smarthost=\"a.example:587\"}", "1"},
      {"relay_smarthost_up{smarthost=\"[::1]:25\"}", "0"},
      {"relay_smarthost_consecutive_failures{smarthost=\"[::1]:25\"}", "3"},
      {"relay_smarthost_auth_failing{smarthost=\"[::1]:25\"}", "1"},
      {"relay_smarthost_auth_failing{smarthost=\"a.example:587\"}", "0"},
      {"relay_smarthost_last_success_timestamp_seconds{smarthost=\"a.example:587\"}", "1699999998.500000"},
      {"relay_smarthost_last_success_timestamp_seconds{smarthost=\"[::1]:25\"}", "0"},
      {"relay_smarthost_paused{smarthost=\"a.example:587\",reason=\"\"}", "0"},
      {"relay_smarthost_pause_until_timestamp_seconds{smarthost=\"a.example:587\",reason=\"\"}", "0"},
      {"relay_smarthost_paused{smarthost=\"[::1]:25\",reason=\"quota: 550 \\\"daily\\\" limit\\\\x\"}", "1"},
      {"relay_smarthost_pause_until_timestamp_seconds{smarthost=\"[::1]:25\",reason=\"quota: 550 \\\"daily\\\" "
       "limit\\\\x\"}",
       "1700000060.000000"},
      {"relay_oauth_token_expiry_timestamp_seconds{smarthost=\"[::1]:25\"}", "1700003600.000000"},
  };
  for (const auto& [k, v] : want) {
    auto it = s.find(k);
    ASSERT_NE(it, s.end()) << "missing " << k;
    EXPECT_EQ(it->second, v) << k;
  }
  EXPECT_EQ(s.count("relay_oauth_token_expiry_timestamp_seconds{smarthost=\"a.example:587\"}"), 0u)
      << "no token, no expiry sample";
}

TEST(Metrics, APauseThatEndedIsNoPause) {
  Health h = TwoHosts();
  h.hosts[1].pause_until = kNow;  // ends now
  std::map<std::string, std::string> s = Samples(EncodeMetrics(h, QueueSummary(), kNow));
  EXPECT_EQ(s["relay_smarthost_paused{smarthost=\"[::1]:25\",reason=\"\"}"], "0");
  EXPECT_EQ(s["relay_smarthost_pause_until_timestamp_seconds{smarthost=\"[::1]:25\",reason=\"\"}"], "0");
}

TEST(Metrics, AnEmptySpoolHasZerosAndNoHostFamilies) {
  std::string text = EncodeMetrics(Health(), QueueSummary(), kNow);
  std::map<std::string, std::string> s = Samples(text);
  EXPECT_EQ(s["relay_queue_messages"], "0");
  EXPECT_EQ(s["relay_queue_oldest_age_seconds"], "0");
  EXPECT_EQ(s["relay_last_success_timestamp_seconds"], "0");
  EXPECT_EQ(text.find("smarthost=\""), std::string::npos) << text;
  EXPECT_EQ(text.find("relay_messages_sent_total"), std::string::npos) << "a family with no sample is left out:\n"
                                                                       << text;
}

TEST(Metrics, EveryLineHasTheShapePromtoolReads) {
  Health h = TwoHosts();
  FindHost(&h, "weird\"host\\\n:25")->sent_total = 1;
  h.hosts[1].pause_reason = "line one\r\nline two";
  std::string text = EncodeMetrics(h, SomeQueue(), kNow);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::regex help(R"(# HELP (relay_[a-z_]+) [^\n]+)"), type(R"(# TYPE (relay_[a-z_]+) (counter|gauge))");
  std::regex sample(R"((relay_[a-z_]+)(\{[a-z]+="([^"\\\n]|\\["\\n])*"(,[a-z]+="([^"\\\n]|\\["\\n])*")*\})? )"
                    R"([0-9]+(\.[0-9]{6})?)");
  std::string family;
  std::set<std::string> seen;
  std::vector<std::string_view> lines = Split(text, '\n');
  lines.pop_back();  // after the last newline
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line(lines[i]);
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      family = m[1];
      EXPECT_TRUE(seen.insert(family).second) << "family twice: " << family;
      ASSERT_LT(i + 1, lines.size());
      std::string next(lines[i + 1]);
      ASSERT_TRUE(std::regex_match(next, m, type)) << next;
      EXPECT_EQ(m[1], family);
      bool counter = m[2] == "counter";
      EXPECT_EQ(counter, family.size() > 6 && family.substr(family.size() - 6) == "_total") << family;
      ++i;
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "bad line: " << line;
    EXPECT_EQ(m[1], family) << "a sample outside its family: " << line;
  }
  EXPECT_NE(text.find("smarthost=\"weird\\\"host\\\\\\n:25\""), std::string::npos) << text;
  EXPECT_NE(text.find("reason=\"line one\\n\\nline two\""), std::string::npos) << text;
}

TEST(Metrics, EscapeLabelValue) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"", ""},
      {"plain:25", "plain:25"},
      {"a\"b", "a\\\"b"},
      {"a\\b", "a\\\\b"},
      {"a\nb", "a\\nb"},
      {"a\rb", "a\\nb"},
      {"\\\"\n", "\\\\\\\"\\n"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // UTF-8 stays as it is
  };
  for (const auto& c : cases) EXPECT_EQ(EscapeLabelValue(c.in), c.out) << c.in;
}

TEST(Metrics, TimestampSeconds) {
  EXPECT_EQ(TimestampSeconds(0), "0");
  EXPECT_EQ(TimestampSeconds(-5), "0");
  EXPECT_EQ(TimestampSeconds(1), "0.000001");
  EXPECT_EQ(TimestampSeconds(1700000000000000), "1700000000.000000");
  EXPECT_EQ(TimestampSeconds(1700000000123456), "1700000000.123456");
}

}  // namespace
}  // namespace relay
