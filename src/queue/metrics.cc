#include "relay/queue/metrics.h"

#include <cinttypes>
#include <cstdio>
#include <vector>

#include "relay/base/env.h"

namespace relay {
namespace {

struct Sample {
  std::string labels;  // {a="b",c="d"} or ""
  std::string value;
};

// One metric family: its HELP and TYPE lines and its samples.
struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::vector<Sample> samples;
};

std::string Labels(std::initializer_list<std::pair<const char*, std::string_view>> labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += std::string(out.empty() ? "{" : ",") + k + "=\"" + EscapeLabelValue(v) + "\"";
  return out.empty() ? out : out + "}";
}

void Append(const Family& f, std::string* out) {
  if (f.samples.empty()) return;
  *out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
  for (const Sample& s : f.samples) *out += f.name + s.labels + " " + s.value + "\n";
}

std::string N(uint64_t n) { return std::to_string(n); }

// The per-smarthost families (the label is "smarthost").
std::vector<Family> HostFamilies(const Health& health, int64_t now) {
  std::vector<Family> f = {
      {"relay_messages_sent_total", "counter", "Messages the smarthost accepted.", {}},
      {"relay_messages_deferred_total", "counter",
       "Delivery attempts that left recipients deferred (4xx, or no smarthost reachable).", {}},
      {"relay_messages_bounced_total", "counter", "Delivery attempts in which recipients failed for good.", {}},
      {"relay_smarthost_up", "gauge", "1 unless the last attempts to use the smarthost failed.", {}},
      {"relay_smarthost_consecutive_failures", "gauge", "Attempts in a row that failed.", {}},
      {"relay_smarthost_auth_failing", "gauge", "1 when the last AUTH was refused.", {}},
      {"relay_smarthost_last_success_timestamp_seconds", "gauge", "When the smarthost last accepted a message.", {}},
      {"relay_smarthost_paused", "gauge", "1 while deliveries to the smarthost are paused.", {}},
      {"relay_smarthost_pause_until_timestamp_seconds", "gauge", "When the smarthost pause ends (0: none).", {}},
      {"relay_oauth_token_expiry_timestamp_seconds", "gauge", "When the OAuth2 access token expires.", {}},
  };
  for (const SmarthostHealth& h : health.hosts) {
    std::string host = Labels({{"smarthost", h.name}});
    bool paused = h.pause_until > now;
    std::string pause = Labels({{"smarthost", h.name}, {"reason", paused ? h.pause_reason : ""}});
    f[0].samples.push_back({host, N(h.sent_total)});
    f[1].samples.push_back({host, N(h.deferred_total)});
    f[2].samples.push_back({host, N(h.bounced_total)});
    f[3].samples.push_back({host, h.down() ? "0" : "1"});
    f[4].samples.push_back({host, std::to_string(h.failures)});
    f[5].samples.push_back({host, h.auth_failing ? "1" : "0"});
    f[6].samples.push_back({host, TimestampSeconds(h.last_success)});
    f[7].samples.push_back({pause, paused ? "1" : "0"});
    f[8].samples.push_back({pause, TimestampSeconds(paused ? h.pause_until : 0)});
    if (h.token_expiry > 0) f[9].samples.push_back({host, TimestampSeconds(h.token_expiry)});
  }
  return f;
}

std::vector<Family> GlobalFamilies(const Health& h, const QueueSummary& q, int64_t now) {
  auto one = [](std::string v) { return std::vector<Sample>{{"", std::move(v)}}; };
  return {
      {"relay_queue_messages", "gauge", "Entries in queue/ waiting for delivery.", one(N(q.queued.count))},
      {"relay_queue_oldest_age_seconds", "gauge", "Age of the oldest entry in queue/ (0: none).",
       one(std::to_string(q.queued.OldestAgeSeconds(now)))},
      {"relay_queue_held_messages", "gauge", "Entries on hold (hold/).", one(N(q.held.count))},
      {"relay_queue_held_oldest_age_seconds", "gauge", "Age of the oldest entry on hold (0: none).",
       one(std::to_string(q.held.OldestAgeSeconds(now)))},
      {"relay_queue_failed_messages", "gauge", "Undeliverable notices kept in failed/.", one(N(q.failed.count))},
      {"relay_queue_failed_oldest_age_seconds", "gauge", "Age of the oldest entry in failed/ (0: none).",
       one(std::to_string(q.failed.OldestAgeSeconds(now)))},
      {"relay_queue_corrupt_messages", "gauge", "Entries set aside as corrupt.", one(N(q.corrupt.count))},
      {"relay_last_success_timestamp_seconds", "gauge", "When a smarthost last accepted a message (0: never).",
       one(TimestampSeconds(h.last_sent))},
      {"relay_bounces_generated_total", "counter", "Failure notices relay generated.", one(N(h.bounces_total))},
      {"relay_corrupt_entries_total", "counter", "Entries moved aside as corrupt.", one(N(h.corrupt_total))},
      {"relay_failed_entries_total", "counter", "Entries moved to failed/.", one(N(h.failed_total))},
      {"relay_delay_notices_total", "counter", "Delayed-delivery notices sent.", one(N(h.delay_notices_total))},
  };
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n' || c == '\r') out += "\\n";
    else out += c;
  }
  return out;
}

std::string TimestampSeconds(int64_t micros) {
  if (micros <= 0) return "0";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06" PRId64, micros / 1000000, micros % 1000000);
  return buf;
}

std::string EncodeMetrics(const Health& health, const QueueSummary& queue, int64_t now_micros) {
  std::string out;
  for (const Family& f : GlobalFamilies(health, queue, now_micros)) Append(f, &out);
  for (const Family& f : HostFamilies(health, now_micros)) Append(f, &out);
  return out;
}

Status WriteMetricsFile(const std::string& path, std::string_view text) {
  Status s = Env::Default()->WriteFileAtomic(path, text, 0644);
  return s.ok() ? s : s.Prefixed("metrics_file");
}

}  // namespace relay
