#include "relay/deliver/quota_reply.h"

#include <algorithm>
#include <cctype>

#include "relay/base/strings.h"

namespace relay {
namespace {

bool Digit(char c) { return c >= '0' && c <= '9'; }

bool IsDsn(std::string_view w) {
  // class "." subject "." detail: 2/4/5, then 1-3 digits twice.
  if (w.size() < 5 || (w[0] != '2' && w[0] != '4' && w[0] != '5') || w[1] != '.') return false;
  size_t dot = w.find('.', 2);
  if (dot == std::string_view::npos || dot == 2 || dot > 5 || dot + 1 == w.size() || w.size() - dot - 1 > 3)
    return false;
  for (size_t i = 2; i < w.size(); ++i)
    if (i != dot && !Digit(w[i])) return false;
  return true;
}

bool CodeMatches(std::string_view pattern, std::string_view code) {
  for (size_t i = 0; i < 3; ++i)
    if (pattern[i] != 'x' && pattern[i] != code[i]) return false;
  return true;
}

// Finds the reply code: three digits 2-5.. at the start of a word,
// followed by a space, a '-' or the end.
size_t FindCode(std::string_view r) {
  for (size_t i = 0; i + 3 <= r.size(); ++i) {
    if (i > 0 && r[i - 1] != ' ') continue;
    if (r[i] < '2' || r[i] > '5' || !Digit(r[i + 1]) || !Digit(r[i + 2])) continue;
    if (i + 3 == r.size() || r[i + 3] == ' ' || r[i + 3] == '-') return i;
  }
  return std::string_view::npos;
}

}  // namespace

const std::vector<QuotaPattern>& BuiltinQuotaPatterns() {
  using K = QuotaKind;
  static const auto* list = new std::vector<QuotaPattern>{
      // "421 4.7.0 Too many messages", "451 4.7.0 ... too many connections",
      // "454 4.7.0 Too many login attempts": slow down.
      {K::kRate, "4xx", "4.7.0", "too many"},
      {K::kRate, "4xx", "4.7.0", "rate limit"},
      // Exchange: "421 4.4.2 Message submission rate for this client has
      // exceeded the configured limit".
      {K::kRate, "4xx", "4.4.2", "submission rate"},
      // Microsoft 365: "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded".
      {K::kRate, "4xx", "4.3.2", "thread limit exceeded"},
      // Gmail: "550 5.4.5 Daily user sending quota exceeded"; Google
      // Workspace's SMTP relay: "550 5.4.5 Daily SMTP relay limit exceeded".
      {K::kDaily, "5xx", "5.4.5", "daily user sending quota exceeded"},
      {K::kDaily, "5xx", "", "daily smtp relay limit exceeded"},
      {K::kDaily, "4xx", "4.4.5", "sending quota"},
      // Microsoft 365 / Outlook.com: "554 5.2.0
      // STOREDRV.Submission.Exception:SubmissionQuotaExceededException".
      {K::kDaily, "5xx", "5.2.0", "submissionquotaexceededexception"},
      {K::kDaily, "5xx", "", "recipientratelimitexceeded"},
  };
  return *list;
}

Status ParseQuotaPatterns(std::string_view text, std::vector<QuotaPattern>* out) {
  int n = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++n;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::string where = "line " + std::to_string(n) + ": ";
    std::vector<std::string_view> w;
    std::string_view rest = line;
    for (int i = 0; i < 3 && !rest.empty(); ++i) {
      size_t sp = rest.find_first_of(" \t");
      w.push_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? "" : Trim(rest.substr(sp));
    }
    if (w.size() < 3) return Status::Config(where + "expected \"rate|daily CODE DSN|- [TEXT]\"");
    QuotaPattern p;
    if (w[0] == "rate") p.kind = QuotaKind::kRate;
    else if (w[0] == "daily") p.kind = QuotaKind::kDaily;
    else return Status::Config(where + "'" + Printable(w[0]) + "' is not rate or daily");
    std::string code = ToLower(w[1]);
    bool code_ok = code.size() == 3 && (code[0] == '4' || code[0] == '5');
    for (size_t i = 1; i < code.size() && code_ok; ++i) code_ok = Digit(code[i]) || code[i] == 'x';
    if (!code_ok) return Status::Config(where + "'" + Printable(w[1]) + "' is not a 4xx or 5xx reply code");
    p.code = code;
    if (w[2] != "-" && !IsDsn(w[2]))
      return Status::Config(where + "'" + Printable(w[2]) + "' is not an enhanced status code (or -)");
    if (w[2] != "-") p.dsn = w[2];
    p.text = ToLower(rest);
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

QuotaKind ClassifyQuotaReply(const std::vector<QuotaPattern>& patterns, std::string_view reply) {
  size_t at = FindCode(reply);
  if (at == std::string_view::npos) return QuotaKind::kNone;
  std::string_view code = reply.substr(at, 3);
  std::string_view after = Trim(reply.substr(std::min(reply.size(), at + 4)));
  std::string_view dsn = after.substr(0, after.find(' '));
  if (!IsDsn(dsn)) dsn = "";
  std::string text = ToLower(after);
  for (const QuotaPattern& p : patterns) {
    if (!CodeMatches(p.code, code)) continue;
    if (!p.dsn.empty() && p.dsn != dsn) continue;
    if (!p.text.empty() && text.find(p.text) == std::string::npos) continue;
    return p.kind;
  }
  return QuotaKind::kNone;
}

int64_t QuotaPauseUntil(QuotaKind kind, const RateLimiter& limiter, const std::string& host,
                        const Limits& limits, int64_t now, int64_t retry_max) {
  int64_t floor = now + RateLimiter::kMinute;
  if (kind == QuotaKind::kRate) return std::max(floor, limiter.NextAllowed(host, limits, now, nullptr));
  int64_t end = limiter.DailyWindowEnd(host, now);
  if (end == 0) end = now + retry_max * 1000000;
  return std::max(floor, end);
}

}  // namespace relay
