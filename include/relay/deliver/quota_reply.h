// Replies that mean "slow down" or "quota reached" (issue 17, item 6):
// the smarthost is paused until its next window instead of the message
// bouncing. Pure: reply text in, a kind out (Postfix's smtp_trouble.c
// decides what a failure means in one table, as this does).
//
// A pattern is KIND CODE DSN TEXT: KIND is "rate" (a per-minute or
// concurrency limit: wait for the next minute) or "daily" (a day's quota:
// wait until the oldest message of the last 24 hours leaves the window);
// CODE is three characters, digits or 'x' for any ("4xx"); DSN an
// enhanced status code or "-" for any; TEXT, possibly empty, a piece of
// the reply's text, compared without regard to case. The built-in list
// (relay.conf(5), PROVIDER LIMITS) covers Microsoft 365's and Google's
// replies; smarthost_quota_replies names a file of more, one a line, '#'
// comments.
#ifndef RELAY_DELIVER_QUOTA_REPLY_H_
#define RELAY_DELIVER_QUOTA_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"
#include "relay/deliver/rate_limit.h"

namespace relay {

enum class QuotaKind { kNone, kRate, kDaily };

struct QuotaPattern {
  QuotaKind kind = QuotaKind::kNone;
  std::string code;  // "421", "4xx"
  std::string dsn;   // "4.7.0"; "" : any
  std::string text;  // lower case; "" : any
};

const std::vector<QuotaPattern>& BuiltinQuotaPatterns();

// Parses a smarthost_quota_replies file. An error names the line.
Status ParseQuotaPatterns(std::string_view text, std::vector<QuotaPattern>* out);

// What reply (a reply's text as relay logs it, "550 5.4.5 Daily ...",
// with or without a leading "MAIL FROM: ") means by the patterns; kNone
// when no pattern matches or it holds no reply code.
QuotaKind ClassifyQuotaReply(const std::vector<QuotaPattern>& patterns, std::string_view reply);

// Until when a smarthost that gave a reply of kind at now is paused: a
// rate reply until the next minute (or later, when the rate limit holds
// it longer); a daily one until the oldest message it was given in the
// last 24 hours leaves that window, or retry_max seconds when none is
// known. Never less than a minute.
int64_t QuotaPauseUntil(QuotaKind kind, const RateLimiter& limiter, const std::string& host,
                        const Limits& limits, int64_t now, int64_t retry_max);

}  // namespace relay

#endif  // RELAY_DELIVER_QUOTA_REPLY_H_
