#include "relay/queue/mailq.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "relay/queue/delivery_state.h"
#include "relay/queue/queue_id.h"
#include "relay/base/strings.h"

namespace relay {

std::string FormatQueueListing(const std::vector<QueueListItem>& items, long gmtoff) {
  if (items.empty()) return "Mail queue is empty\n";
  // Columns: ID 0-18, mark 19, size 21-28, arrival 30-48, sender 51.
  std::string out = "-Queue ID-           --Size-- ----Arrival Time---- -Sender/Recipient-------\n";
  uint64_t total = 0;
  for (const QueueListItem& it : items) {
    total += it.size;
    time_t t = static_cast<time_t>(it.arrival_micros / 1000000) + gmtoff;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm);
    std::string sender = it.sender.empty() ? "MAILER-DAEMON" : Printable(it.sender);
    char size[32];
    std::snprintf(size, sizeof size, "%8llu", static_cast<unsigned long long>(it.size));
    // Built piecewise: an address of any length is printed whole.
    out += it.id + std::string(it.id.size() < 19 ? 19 - it.id.size() : 0, ' ');
    out += it.mark.empty() ? " " : it.mark;
    out += std::string(" ") + size + " " + when + "  " + sender + "\n";
    for (const QueueListRecipient& r : it.pending) {
      if (!r.last_error.empty()) out += std::string(49, ' ') + "(" + Printable(r.last_error) + ")\n";
      out += std::string(51, ' ') + Printable(r.address) + "\n";
    }
    out += "\n";
  }
  uint64_t kbytes = (total + 1023) / 1024;
  out += "-- " + std::to_string(kbytes) + " Kbytes in " + std::to_string(items.size()) +
         (items.size() == 1 ? " Request.\n" : " Requests.\n");
  return out;
}

namespace {

// Lists one directory of entries (queue/ or failed/) into items.
Status ListDirectory(const SpoolPaths& paths, const std::string& dir, const std::string& mark,
                     std::vector<QueueListItem>* items) {
  std::vector<std::string> names;
  Status s = Env::Default()->ListDir(dir, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    if (!IsQueueId(name)) continue;
    QueueEntryInfo info;
    QueueListItem item;
    item.id = name;
    item.mark = mark;
    item.arrival_micros = QueueIdMicros(name);
    Status r = ReadQueueEntryInfo(dir + "/" + name, &info);
    if (!r.ok() || !info.complete) {
      item.mark = kMarkDamaged;
      items->push_back(std::move(item));
      continue;
    }
    item.size = info.content_size;
    item.arrival_micros = info.envelope.arrival_micros;
    item.sender = info.envelope.sender;
    // Delivery progress, when relayd has recorded any: done and bounced
    // recipients are not pending any more; the others show the last error.
    const auto& rcpts = info.envelope.recipients;
    DeliveryState st;
    std::string text;
    // A kept failure's state moved with it to failed/ID.state.
    std::string state_path = dir == paths.failed() ? paths.failed_state_file(name) : paths.state_file(name);
    bool have_state = Env::Default()->ReadFile(state_path, &text, nullptr).ok() &&
                      ParseState(text, rcpts.size(), &st).ok();
    for (size_t i = 0; i < rcpts.size(); ++i) {
      if (have_state && st.rcpts[i].kind != RcptStatus::Kind::kPending) continue;
      item.pending.push_back({rcpts[i].address, have_state ? st.rcpts[i].reason : ""});
    }
    items->push_back(std::move(item));
  }
  return Status::Ok();
}

}  // namespace

Status ReadQueueListing(const SpoolPaths& paths, std::vector<QueueListItem>* items) {
  items->clear();
  Status s = ListDirectory(paths, paths.queue(), "", items);
  if (!s.ok()) return s;
  // Notices that could not be delivered even to the postmaster, kept for
  // the admin, are marked so that they are never silently forgotten, and
  // apart from held entries: one is dead, the other waits for a release.
  ListDirectory(paths, paths.failed(), kMarkFailed, items);
  ListDirectory(paths, paths.hold(), kMarkHeld, items);
  std::sort(items->begin(), items->end(),
            [](const QueueListItem& a, const QueueListItem& b) { return a.id < b.id; });
  return Status::Ok();
}
}  // namespace relay
