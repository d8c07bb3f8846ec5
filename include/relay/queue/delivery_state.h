// Delivery state: what relayd knows about one queued message beyond its
// immutable queue file, kept in state/QUEUEID and replaced atomically.
//
// Format, version 1, text records:
//   relay-state 1
//   attempts N
//   next MICROS            earliest next attempt (0: now)
//   rcpt INDEX done         accepted by the smarthost; never sent again
//   rcpt INDEX bounced      failed for good; a bounce has been queued,
//                           unless the recipient's NOTIFY asked for none
//   rcpt INDEX deferred DSN REASON   still pending; the last temporary error
//   delay_warned 1          the delayed-delivery notice (delay_warning_time)
//                           was queued, or nobody wanted one: never again
// INDEX counts the queue file's rcpt records from 0. A recipient with no
// record is pending and has not failed yet. Losing this file can only cause
// a retry or a duplicate, never a loss: the message is in the queue file.
#ifndef RELAY_QUEUE_DELIVERY_STATE_H_
#define RELAY_QUEUE_DELIVERY_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"

namespace relay {

struct RcptStatus {
  enum class Kind { kPending, kDone, kBounced };
  Kind kind = Kind::kPending;
  std::string dsn;     // last temporary error, for pending ones
  std::string reason;
};

struct DeliveryState {
  int attempts = 0;
  int64_t next_attempt_micros = 0;
  std::vector<RcptStatus> rcpts;  // one per envelope recipient
  bool delay_warned = false;      // written only when true

  size_t pending() const;
};

std::string EncodeState(const DeliveryState& s);
// nrcpts: the envelope's recipient count; the result has that many.
Status ParseState(std::string_view text, size_t nrcpts, DeliveryState* s);

// Only the "next" record, cheaply (relayd scans many state files).
// 0 when there is none.
int64_t ParseNextAttempt(std::string_view text);

// Retry policy: the delay before attempt number attempts+1, exponential
// from retry_min, doubling per attempt, capped at retry_max, then spread by
// jitter (a number in [0,1) giving a factor from 0.8 to 1.2) so that a
// queue that failed together does not retry in lock step; never below
// retry_min nor above retry_max.
int64_t RetryDelaySeconds(int attempts, int64_t retry_min, int64_t retry_max, double jitter);

}  // namespace relay

#endif  // RELAY_QUEUE_DELIVERY_STATE_H_
