#include "relay/message/line_reader.h"

#include <algorithm>
#include <cstring>

namespace relay {

bool LineSplitter::Emit(bool end_of_line) {
  bool go_on = sink_->OnPiece(cur_, end_of_line);
  cur_.clear();
  line_started_ = !end_of_line;
  if (!go_on) stopped_ = true;
  return go_on;
}

bool LineSplitter::Feed(std::string_view data) {
  if (stopped_) return false;
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (*p == '\n') {
        ++p;
        if (!Emit(true)) return false;
        continue;
      }
      ++dropped_cr_;  // a bare CR
    }
    // The run of ordinary bytes up to the next LF, CR or NUL, found with
    // memchr (vectorised) and appended whole: a few instructions per 16
    // bytes instead of a branch and a push_back per byte.
    const char* stop = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!stop) stop = end;
    if (const void* cr = std::memchr(p, '\r', static_cast<size_t>(stop - p))) stop = static_cast<const char*>(cr);
    if (const void* nul = std::memchr(p, '\0', static_cast<size_t>(stop - p))) stop = static_cast<const char*>(nul);
    while (p < stop) {
      size_t take = std::min(piece_size_ - cur_.size(), static_cast<size_t>(stop - p));
      cur_.append(p, take);
      p += take;
      if (cur_.size() >= piece_size_ && !Emit(false)) return false;
    }
    if (p == end) break;
    char c = *p++;
    if (c == '\n') {
      if (!Emit(true)) return false;
    } else if (c == '\r') {
      pending_cr_ = true;
    } else {
      ++dropped_nul_;
    }
  }
  return true;
}

bool LineSplitter::Finish() {
  if (stopped_) return false;
  if (pending_cr_) {
    pending_cr_ = false;
    ++dropped_cr_;
  }
  if (!cur_.empty() || line_started_) return Emit(true);
  return true;
}

}  // namespace relay
