#include "relay/queue/delivery_state.h"

#include <algorithm>
#include <charconv>

#include "relay/base/strings.h"

namespace relay {
namespace {

}  // namespace

size_t DeliveryState::pending() const {
  size_t n = 0;
  for (const RcptStatus& r : rcpts) n += r.kind == RcptStatus::Kind::kPending;
  return n;
}

std::string EncodeState(const DeliveryState& s) {
  std::string out = "relay-state 1\nattempts " + std::to_string(s.attempts) + "\nnext " +
                    std::to_string(s.next_attempt_micros) + "\n";
  if (s.delay_warned) out += "delay_warned 1\n";
  for (size_t i = 0; i < s.rcpts.size(); ++i) {
    const RcptStatus& r = s.rcpts[i];
    std::string idx = std::to_string(i);
    switch (r.kind) {
      case RcptStatus::Kind::kDone: out += "rcpt " + idx + " done\n"; break;
      case RcptStatus::Kind::kBounced: out += "rcpt " + idx + " bounced\n"; break;
      case RcptStatus::Kind::kPending:
        if (!r.reason.empty())
          out += "rcpt " + idx + " deferred " + (r.dsn.empty() ? "4.0.0" : Printable(r.dsn)) + " " +
                 Printable(r.reason) + "\n";
        break;
    }
  }
  return out;
}

Status ParseState(std::string_view text, size_t nrcpts, DeliveryState* s) {
  *s = DeliveryState();
  s->rcpts.assign(nrcpts, RcptStatus());
  int lineno = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++lineno;
    if (line.empty()) continue;
    auto bad = [&] { return Status::DataErr("state file line " + std::to_string(lineno) + " is malformed"); };
    if (lineno == 1) {
      if (line != "relay-state 1") return bad();
      continue;
    }
    std::string_view rest = line;
    std::string_view key = NextWord(&rest);
    if (key == "attempts") {
      if (!WholeNumber(rest, &s->attempts)) return bad();
    } else if (key == "next") {
      if (!WholeNumber(rest, &s->next_attempt_micros)) return bad();
    } else if (key == "delay_warned") {
      if (rest != "1") return bad();
      s->delay_warned = true;
    } else if (key == "rcpt") {
      size_t idx = 0;
      if (!WholeNumber(NextWord(&rest), &idx) || idx >= nrcpts) return bad();
      std::string_view kind = NextWord(&rest);
      RcptStatus& r = s->rcpts[idx];
      if (kind == "done") r.kind = RcptStatus::Kind::kDone;
      else if (kind == "bounced") r.kind = RcptStatus::Kind::kBounced;
      else if (kind == "deferred") {
        r.dsn = NextWord(&rest);
        r.reason = rest;
      } else return bad();
    } else {
      return bad();
    }
  }
  if (lineno == 0 || text.substr(0, 13) != "relay-state 1") return Status::DataErr("state file has no header");
  return Status::Ok();
}

int64_t ParseNextAttempt(std::string_view text) {
  size_t at = text.find("\nnext ");
  if (at == std::string_view::npos) return 0;
  std::string_view rest = text.substr(at + 6);
  int64_t v = 0;
  return WholeNumber(rest.substr(0, rest.find('\n')), &v) ? v : 0;
}

int64_t RetryDelaySeconds(int attempts, int64_t retry_min, int64_t retry_max, double jitter) {
  int64_t d = retry_min;
  for (int i = 1; i < attempts && d < retry_max; ++i) d *= 2;
  d = std::min(d, retry_max);
  double spread = 0.8 + 0.4 * std::clamp(jitter, 0.0, 1.0);
  int64_t j = static_cast<int64_t>(static_cast<double>(d) * spread);
  return std::clamp(j, retry_min, retry_max);
}

}  // namespace relay
