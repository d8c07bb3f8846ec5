#include "relay/line_reader.h"

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
    char c = *p++;
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        if (!Emit(true)) return false;
        continue;
      }
      ++dropped_cr_;  // a bare CR
    }
    if (c == '\n') {
      if (!Emit(true)) return false;
    } else if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\0') {
      ++dropped_nul_;
    } else {
      cur_.push_back(c);
      if (cur_.size() >= piece_size_ && !Emit(false)) return false;
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
