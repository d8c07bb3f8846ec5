// Queue IDs: unique names for spool entries that sort by arrival.
//
// An ID is 19 characters of [0-9A-Z]: 13 upper-case hex digits of the
// arrival time in microseconds since the epoch (enough until the year 2112),
// then 6 base-32 digits of a salt (the process id and some random bits).
// Fixed width makes string order the arrival order; the salt keeps two
// processes that start in the same microsecond apart. The spool's O_EXCL
// create and no-replace rename back this up: a clash is an error, never an
// overwrite.
#ifndef RELAY_QUEUE_QUEUE_ID_H_
#define RELAY_QUEUE_QUEUE_ID_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace relay {

inline constexpr size_t kQueueIdLength = 19;

std::string MakeQueueId(int64_t now_micros, uint32_t salt);

// True for a well-formed ID. Names in the spool that are not IDs (temporary
// files, anything an admin left there) are never treated as entries, and an
// ID can never contain a '/' or "..", so it is safe to join to a path.
bool IsQueueId(std::string_view name);

// The arrival time encoded in a well-formed ID, in microseconds.
int64_t QueueIdMicros(std::string_view id);

// A salt for MakeQueueId from the process id and the kernel's randomness.
uint32_t QueueIdSalt();

// The ID of a new entry arriving at now_micros: how every door (sendmail,
// sendmail -bs, the listener, relay-smtpd) and every bounce gets one. The
// salt is QueueIdSalt's, its random bits replaced by a count of the IDs
// this process made, so that its entries within a microsecond differ.
std::string NewQueueId(int64_t now_micros);

}  // namespace relay

#endif  // RELAY_QUEUE_QUEUE_ID_H_
