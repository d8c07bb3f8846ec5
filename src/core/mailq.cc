#include "relay/mailq.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "relay/queue_id.h"
#include "relay/strings.h"

namespace relay {

std::string FormatQueueListing(const std::vector<QueueListItem>& items, long gmtoff) {
  if (items.empty()) return "Mail queue is empty\n";
  std::string out = "-Queue ID-          --Size-- ----Arrival Time---- -Sender/Recipient-------\n";
  uint64_t total = 0;
  char line[512];
  for (const QueueListItem& it : items) {
    total += it.size;
    time_t t = static_cast<time_t>(it.arrival_micros / 1000000) + gmtoff;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm);
    std::string sender = it.sender.empty() ? "MAILER-DAEMON" : Printable(it.sender);
    std::snprintf(line, sizeof line, "%-19s%1s %8llu %s  %s\n", it.id.c_str(),
                  it.mark.empty() ? " " : it.mark.c_str(),
                  static_cast<unsigned long long>(it.size), when, sender.c_str());
    out += line;
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

Status ReadQueueListing(const SpoolPaths& paths, std::vector<QueueListItem>* items) {
  items->clear();
  std::vector<std::string> names;
  Status s = Env::Default()->ListDir(paths.queue(), &names);
  if (!s.ok()) return s;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (!IsQueueId(name)) continue;
    QueueEntryInfo info;
    QueueListItem item;
    item.id = name;
    item.arrival_micros = QueueIdMicros(name);
    Status r = ReadQueueEntryInfo(paths.queue_file(name), &info);
    if (!r.ok() || !info.complete) {
      item.mark = "#";
      items->push_back(std::move(item));
      continue;
    }
    item.size = info.content_size;
    item.arrival_micros = info.envelope.arrival_micros;
    item.sender = info.envelope.sender;
    for (const Recipient& rc : info.envelope.recipients) item.pending.push_back({rc.address, ""});
    items->push_back(std::move(item));
  }
  return Status::Ok();
}

}  // namespace relay
