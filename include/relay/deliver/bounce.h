// Bounces: RFC 3464 delivery status notifications, composed in wire form
// (CRLF, dot-stuffed) so they can go into a queue file as they are.
//
//   multipart/report; report-type=delivery-status
//     1. text/plain: what happened, in words
//     2. message/delivery-status: per-recipient Status, Action, Diagnostic
//     3. message/rfc822 (the whole original, up to bounce_size_limit) or
//        text/rfc822-headers (its header only: when RET=HDRS or too big)
// The caller writes BounceHead, then the original (or its header), then
// BounceTail. The original is already in wire form, so it is copied
// byte for byte: dot-stuffed lines stay stuffed at line starts.
#ifndef RELAY_DELIVER_BOUNCE_H_
#define RELAY_DELIVER_BOUNCE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"
#include "relay/queue/queue_file.h"

namespace relay {

struct FailedRecipient {
  std::string address;
  std::string original;  // ORCPT, may be ""
  std::string dsn;       // "5.1.1"
  std::string reason;    // printable diagnostic, e.g. the server's reply
  bool delayed = false;  // a warning that it is still queued, not a failure
};

struct BounceParams {
  std::string reporting_host;  // this host's FQDN
  std::string domain;          // for From: MAILER-DAEMON@domain
  std::string remote_mta;      // the smarthost, "" if never reached
  std::string bounce_id;       // the bounce's own queue id
  std::string to;              // who gets it (the original sender or postmaster)
  int64_t now_micros = 0;
  long gmtoff = 0;
  const Envelope* original = nullptr;
  std::vector<FailedRecipient> failed;
  bool headers_only = false;
};

std::string BounceHead(const BounceParams& p);
std::string BounceTail(const BounceParams& p);

// The message a notice is about, as it lies in its queue file.
struct BounceOriginal {
  const Envelope* env = nullptr;
  int fd = -1;                  // the queue file, open for reading
  uint64_t content_offset = 0;  // where its content starts in the file
  uint64_t content_size = 0;
  bool eight_bit = false;
};

// The envelope of a notice about original: from <>, to the original's
// sender, or for a bounce (sender <>) to the postmaster's addresses,
// marked as a double bounce. False when original is itself a notice to
// the postmaster: that is never bounced again (the caller keeps it).
bool BounceEnvelope(const Envelope& original, const std::vector<std::string>& postmaster,
                    const std::string& id, int64_t now_micros, int64_t uid, Envelope* out);

// Whether the notice carries only the original's header: RET=HDRS, an
// 8-bit original (the failure may be exactly that the path does not carry
// 8-bit data), or one larger than bounce_size_limit.
bool BounceHeadersOnly(const BounceOriginal& o, int64_t bounce_size_limit);

// Hands the whole notice in wire form to sink, piece by piece: BounceHead,
// the original (or its header, p.headers_only) read from its queue file
// and copied as it is (already in wire form), BounceTail. Memory stays
// bounded whatever the original's size.
Status WriteBounce(const BounceParams& p, const BounceOriginal& o,
                   const std::function<Status(std::string_view)>& sink);

// An address for Final-Recipient and Original-Recipient: "rfc822; a@x"
// when it is ASCII, else RFC 6533's "utf-8; " with the utf-8-addr-xtext
// form, the one a message/delivery-status part may carry (7-bit).
std::string DsnAddress(std::string_view address);
// utf-8-addr-xtext (RFC 6533 3): every character outside QCHAR (non-ASCII,
// space, '\', '+', '=') as \x{HEX}, upper case, no leading zeros beyond
// two digits. An invalid UTF-8 byte is U+FFFD.
std::string Utf8AddrXtext(std::string_view address);

// A queue lifetime in words, exact: "5 days", "1 hour 30 minutes",
// "45 minutes", "90 seconds" is "1 minute 30 seconds".
std::string LifetimeText(int64_t seconds);

}  // namespace relay

#endif  // RELAY_DELIVER_BOUNCE_H_
