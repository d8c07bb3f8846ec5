// How many entries each part of the spool holds and how old the oldest
// is, for `relayctl status` and the metrics. An entry's age comes from its
// queue ID (its arrival time), never from a file's mtime, which a hold,
// release or copy changes.
#ifndef RELAY_QUEUE_QUEUE_SUMMARY_H_
#define RELAY_QUEUE_QUEUE_SUMMARY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "relay/base/status.h"
#include "relay/queue/spool.h"

namespace relay {

struct DirSummary {
  size_t count = 0;
  std::string oldest;  // the oldest entry's queue ID; "" when none

  // Seconds since the oldest entry arrived (0 when there is none, or it
  // seems to come from the future).
  int64_t OldestAgeSeconds(int64_t now_micros) const;
  // Whether the oldest entry has waited longer than max_age seconds.
  bool OlderThan(int64_t now_micros, int64_t max_age) const;
};

struct QueueSummary {
  DirSummary queued;   // queue/: waiting for delivery
  DirSummary held;     // hold/: put on hold (relayctl hold)
  DirSummary failed;   // failed/: notices that could not be delivered
  DirSummary corrupt;  // corrupt/, and queue/ID.corrupt set aside

  // The parts whose oldest entry has waited longer than max_age seconds,
  // by name ("queued", "held", "failed"), in that order: what
  // `relayctl status --max-age` calls stuck. corrupt/ is not counted: its
  // entries are evidence, not mail that could still go.
  std::vector<std::string> Stuck(int64_t now_micros, int64_t max_age) const;
};

// Counts the queue IDs among names (a directory's listing); other names
// (state files, temporaries, triggers) are not entries.
DirSummary SummarizeNames(const std::vector<std::string>& names);
// The queue/ID.corrupt names among a listing of queue/, as a summary.
DirSummary SummarizeAside(const std::vector<std::string>& names);

// Lists the spool's directories. One that does not exist counts 0 (no
// spool yet, as for mailq); the first that cannot be read is returned as
// an error, the others still counted.
Status ReadQueueSummary(const SpoolPaths& paths, QueueSummary* summary);

}  // namespace relay

#endif  // RELAY_QUEUE_QUEUE_SUMMARY_H_
