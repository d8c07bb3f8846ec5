#include "relay/message/line_reader.h"

#include <algorithm>
#include <cstring>

namespace relay {

namespace {

// The first c in [p, end), or end.
const char* Find(const char* p, const char* end, char c) {
  const void* at = std::memchr(p, c, static_cast<size_t>(end - p));
  return at ? static_cast<const char*>(at) : end;
}

}  // namespace

bool LineSplitter::Emit(bool end_of_line) {
  bool go_on = Emit(cur_, end_of_line);
  cur_.clear();
  return go_on;
}

bool LineSplitter::Emit(std::string_view text, bool end_of_line) {
  bool go_on = sink_->OnPiece(text, end_of_line);
  line_started_ = !end_of_line;
  if (!go_on) stopped_ = true;
  return go_on;
}

bool LineSplitter::Feed(std::string_view data) {
  if (stopped_) return false;
  const char* p = data.data();
  const char* end = p + data.size();
  // The next CR and the next NUL are each looked for once per chunk, and
  // again only once passed, not on every line: a message without them (a
  // cron mail, a 1 GiB log) costs one memchr per line, for its LF. Each
  // search starts where the last one ended, so a chunk full of CRs or NULs
  // is still read once, not once per byte.
  const char* next_cr = Find(p, end, '\r');
  const char* next_nul = Find(p, end, '\0');
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
    if (next_cr < p) next_cr = Find(p, end, '\r');
    if (next_nul < p) next_nul = Find(p, end, '\0');
    const char* special = std::min(next_cr, next_nul);
    // The run of ordinary bytes up to the next LF, CR or NUL, found with
    // memchr (vectorised): a few instructions per 16 bytes instead of a
    // branch and a push_back per byte.
    const char* stop = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(special - p)));
    if (!stop) stop = special;
    // A whole line (LF or CRLF) shorter than a piece, nothing of it held:
    // handed to the sink where it lies, not copied. The sink sees exactly
    // the pieces the general path below would give it.
    size_t eol = stop < end && *stop == '\r' && stop + 1 < end && stop[1] == '\n' ? 2
                 : stop < end && *stop == '\n'                                      ? 1
                                                                                     : 0;
    if (eol != 0 && cur_.empty() && static_cast<size_t>(stop - p) < piece_size_) {
      if (!Emit(std::string_view(p, static_cast<size_t>(stop - p)), true)) return false;
      p = stop + eol;
      continue;
    }
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
