// What the rest of relay does to a queue entry, without knowing where its
// files live: load it (for delivery or relayctl bounce), find it, read its
// delivery state, hold it, release it, delete it, make it due now, and
// wake relayd (spool.h has the paths).
//
// An entry is in one of three places: queue/ (waiting for delivery),
// hold/ (put aside by relayctl hold) or failed/ (a notice that could not
// be delivered even to the postmaster, kept with its state beside it as
// failed/ID.state). An entry in queue/ or hold/ keeps its state in
// state/ID.
#ifndef RELAY_QUEUE_OPERATIONS_H_
#define RELAY_QUEUE_OPERATIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/base/status.h"
#include "relay/queue/delivery_state.h"
#include "relay/queue/queue_file.h"
#include "relay/queue/spool.h"

namespace relay {

// One queue entry opened for delivery (LoadMessage).
struct LoadedMessage {
  ~LoadedMessage();
  std::string id;
  int fd = -1;
  Envelope env;
  uint64_t content_offset = 0;
  Trailer trailer;
  DeliveryState state;
  bool can_downgrade = false;  // 8-bit and convertible (downgrade.h)
};

// Opens queue/ID and its state: without following a symbolic link or
// blocking on a FIFO, checked as CheckQueueFileStat and SubmitterUid say
// (spool.h). A DataErr status means the entry is corrupt.
Status LoadMessage(const SpoolPaths& paths, const std::string& id, LoadedMessage* m);

enum class EntryPlace { kQueued, kHeld, kFailed };

// The directory's name, as relayctl shows it: "queue", "hold", "failed".
const char* EntryPlaceName(EntryPlace place);

// Finds an entry, looking in queue/, hold/ and failed/ in that order.
// Sets *path (its queue file) and *place; false if it is in none.
bool LocateEntry(const SpoolPaths& paths, const std::string& id, std::string* path, EntryPlace* place);

// The delivery state file of an entry in place.
std::string EntryStatePath(const SpoolPaths& paths, const std::string& id, EntryPlace place);

// Reads the delivery state of an entry of nrcpts recipients; false when
// there is none (never attempted) or it cannot be read.
bool LoadEntryState(const SpoolPaths& paths, const std::string& id, EntryPlace place, size_t nrcpts,
                    DeliveryState* st);

// Moves an entry from queue/ to hold/ (no renaming over an entry there),
// and makes the move durable. False: no such entry in queue/.
bool HoldEntry(const SpoolPaths& paths, const std::string& id);

// Moves an entry from hold/ back to queue/ and makes it due now. False:
// no such entry in hold/.
bool ReleaseEntry(const SpoolPaths& paths, const std::string& id);

// Removes the entry at path (found by LocateEntry) and its delivery
// state. A TempFail naming the path when the entry cannot be removed.
Status DeleteEntry(const SpoolPaths& paths, const std::string& id, const std::string& path, EntryPlace place);

// Makes a queued entry of nrcpts recipients due now, by rewriting its
// state's next attempt time (an entry with no state is due already).
void MakeEntryDue(const SpoolPaths& paths, const std::string& id, size_t nrcpts);

// Wakes relayd: any new name in queue/ does (inotify). A trigger that is
// there already, not yet seen by relayd, does the same job. NoPerm when
// the caller may not write queue/.
Status WakeRelayd(const SpoolPaths& paths, Trigger trigger);

}  // namespace relay

#endif  // RELAY_QUEUE_OPERATIONS_H_
