#include "relay/queue/queue_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>

namespace relay {
namespace {
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kBase32[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
constexpr size_t kTimeDigits = 13;
}  // namespace

std::string MakeQueueId(int64_t now_micros, uint32_t salt) {
  std::string id(kQueueIdLength, '0');
  uint64_t t = static_cast<uint64_t>(now_micros);
  for (size_t i = kTimeDigits; i-- > 0; t >>= 4) id[i] = kHex[t & 0xF];
  for (size_t i = kQueueIdLength; i-- > kTimeDigits; salt >>= 5) id[i] = kBase32[salt & 0x1F];
  return id;
}

bool IsQueueId(std::string_view name) {
  if (name.size() != kQueueIdLength) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool digit = c >= '0' && c <= '9';
    bool ok = i < kTimeDigits ? (digit || (c >= 'A' && c <= 'F'))
                              : (digit || (c >= 'A' && c <= 'V'));
    if (!ok) return false;
  }
  return true;
}

int64_t QueueIdMicros(std::string_view id) {
  uint64_t t = 0;
  for (size_t i = 0; i < kTimeDigits && i < id.size(); ++i) {
    char c = id[i];
    t = (t << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  }
  return static_cast<int64_t>(t);
}

uint32_t QueueIdSalt() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) r = 0;
  // 30 bits: the pid (22 bits covers Linux's pid_max) and 8 random bits.
  return ((static_cast<uint32_t>(getpid()) & 0x3FFFFF) << 8) | (r & 0xFF);
}

std::string NewQueueId(int64_t now_micros) {
  // The salt's 8 random bits count up from a random start instead: 256
  // IDs of one process within a microsecond all differ (a count shifted
  // into the pid's bits, as sendmail -bs had it, repeats after 64). Atomic:
  // relay-deliver bounces from several threads.
  static std::atomic<uint32_t> next{QueueIdSalt()};
  return MakeQueueId(now_micros, (QueueIdSalt() & ~0xFFu) | (next++ & 0xFFu));
}

}  // namespace relay
