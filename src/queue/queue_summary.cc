#include "relay/queue/queue_summary.h"

#include <cerrno>
#include <cstring>

#include "relay/base/env.h"
#include "relay/queue/queue_id.h"

namespace relay {
namespace {

constexpr std::string_view kAsideSuffix = ".corrupt";

void Count(std::string_view id, DirSummary* s) {
  ++s->count;
  if (s->oldest.empty() || id < s->oldest) s->oldest = std::string(id);
}

// Lists dir into *names; a missing directory is an empty one.
Status List(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  Status s = Env::Default()->ListDir(dir, names);
  if (!s.ok() && s.message().find(std::strerror(ENOENT)) != std::string::npos) return Status::Ok();
  return s;
}

}  // namespace

int64_t DirSummary::OldestAgeSeconds(int64_t now_micros) const {
  if (oldest.empty()) return 0;
  int64_t age = (now_micros - QueueIdMicros(oldest)) / 1000000;
  return age > 0 ? age : 0;
}

bool DirSummary::OlderThan(int64_t now_micros, int64_t max_age) const {
  return !oldest.empty() && OldestAgeSeconds(now_micros) > max_age;
}

std::vector<std::string> QueueSummary::Stuck(int64_t now_micros, int64_t max_age) const {
  std::vector<std::string> out;
  if (queued.OlderThan(now_micros, max_age)) out.push_back("queued");
  if (held.OlderThan(now_micros, max_age)) out.push_back("held");
  if (failed.OlderThan(now_micros, max_age)) out.push_back("failed");
  return out;
}

DirSummary SummarizeNames(const std::vector<std::string>& names) {
  DirSummary s;
  for (const std::string& n : names)
    if (IsQueueId(n)) Count(n, &s);
  return s;
}

DirSummary SummarizeAside(const std::vector<std::string>& names) {
  DirSummary s;
  for (std::string_view n : names) {
    if (n.size() <= kAsideSuffix.size() || n.substr(n.size() - kAsideSuffix.size()) != kAsideSuffix) continue;
    std::string_view id = n.substr(0, n.size() - kAsideSuffix.size());
    if (IsQueueId(id)) Count(id, &s);
  }
  return s;
}

Status ReadQueueSummary(const SpoolPaths& paths, QueueSummary* summary) {
  Status first;
  std::vector<std::string> names;
  auto read = [&](const std::string& dir) {
    Status s = List(dir, &names);
    if (!s.ok() && first.ok()) first = s;
    return names;
  };
  QueueSummary q;
  std::vector<std::string> queue = read(paths.queue());
  q.queued = SummarizeNames(queue);
  q.held = SummarizeNames(read(paths.hold()));
  q.failed = SummarizeNames(read(paths.failed()));
  q.corrupt = SummarizeNames(read(paths.corrupt()));
  DirSummary aside = SummarizeAside(queue);
  q.corrupt.count += aside.count;
  if (!aside.oldest.empty() && (q.corrupt.oldest.empty() || aside.oldest < q.corrupt.oldest))
    q.corrupt.oldest = aside.oldest;
  *summary = q;
  return first;
}

}  // namespace relay
