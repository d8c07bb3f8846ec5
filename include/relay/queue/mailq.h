// mailq: the queue listing, in the shape Postfix's mailq prints, so that
// admins and the scripts they already have can read it:
//
//   -Queue ID-           --Size-- ----Arrival Time---- -Sender/Recipient-------
//   19A3F2C41B2E5K3M2P      2905 Tue Nov 24 19:30:00  root@example.com
//                                                 (last temporary error)
//                                                   admin@example.com
//
//   -- 3 Kbytes in 1 Request.
//
// Formatting is pure; ListQueue does the reading.
#ifndef RELAY_QUEUE_MAILQ_H_
#define RELAY_QUEUE_MAILQ_H_

#include <cstdint>
#include <string>
#include <vector>

#include "relay/queue/spool.h"
#include "relay/base/status.h"

namespace relay {

struct QueueListRecipient {
  std::string address;
  std::string last_error;  // the last temporary failure, if any
};

struct QueueListItem {
  std::string id;
  uint64_t size = 0;
  int64_t arrival_micros = 0;
  std::string sender;
  std::vector<QueueListRecipient> pending;
  std::string mark;  // one of the marks below, or "" for a queued entry
};

// The mark after the queue ID. Punctuation, never a letter or digit, so
// that scripts that strip Postfix's marks from the ID keep working.
inline constexpr const char* kMarkHeld = "!";     // in hold/, as Postfix marks it
inline constexpr const char* kMarkFailed = "%";   // a double bounce kept in failed/
inline constexpr const char* kMarkDamaged = "#";  // unreadable or incomplete

// items must be sorted by id. gmtoff: local zone offset for arrival times.
std::string FormatQueueListing(const std::vector<QueueListItem>& items, long gmtoff);

// Reads every entry of the spool's queue. Entries that cannot be read are
// listed with the "#" mark rather than hidden.
Status ReadQueueListing(const SpoolPaths& paths, std::vector<QueueListItem>* items);

}  // namespace relay

#endif  // RELAY_QUEUE_MAILQ_H_
