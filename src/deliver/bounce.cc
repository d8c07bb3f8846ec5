#include "relay/deliver/bounce.h"

#include "relay/message/header.h"
#include "relay/base/strings.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace relay {
namespace {

std::string Boundary(const BounceParams& p) { return p.bounce_id + "/" + p.reporting_host; }

void Line(std::string* out, const std::string& s) {
  // The text parts are ours, but reasons quote the server: make sure no
  // line can start with a lone dot or exceed the line limit.
  std::string l = s;
  for (char& c : l)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
  if (!l.empty() && l[0] == '.') l.insert(0, ".");
  if (l.size() > 990) l.resize(990);
  *out += l + "\r\n";
}

bool IsAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Decodes one UTF-8 sequence at s[*i], advancing *i; an invalid one gives
// U+FFFD and consumes one byte.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  size_t more = 0;
  uint32_t cp = c;
  if (c < 0x80) {
    ++*i;
    return cp;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    more = 1;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    more = 2;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    more = 3;
    cp = c & 0x07u;
  }
  // A stray continuation byte, a byte never valid in UTF-8, or a
  // sequence cut by the end of the text.
  if (more == 0 || *i + more >= s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (size_t k = 1; k <= more; ++k) {
    unsigned char d = static_cast<unsigned char>(s[*i + k]);
    if ((d & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3Fu);
  }
  *i += more + 1;
  return cp;
}

std::string NotificationText(const BounceParams& p, bool delay) {
  std::string out;
  Line(&out, "This is the mail system at host " + p.reporting_host + ".");
  Line(&out, "");
  if (delay) {
    Line(&out, "Your message could not be delivered yet to the recipients below.");
    Line(&out, "It is still queued and will be retried; you need not send it again.");
  } else {
    Line(&out, "I'm sorry to have to inform you that your message could not");
    Line(&out, "be delivered to one or more recipients. It's attached below.");
  }
  Line(&out, "");
  for (const FailedRecipient& f : p.failed) Line(&out, "<" + f.address + ">: " + f.reason);
  Line(&out, "");
  return out;
}

}  // namespace

std::string Utf8AddrXtext(std::string_view address) {
  std::string out;
  for (size_t i = 0; i < address.size();) {
    uint32_t cp = NextCodePoint(address, &i);
    bool qchar = cp > 0x20 && cp < 0x7F && cp != '\\' && cp != '+' && cp != '=';
    if (qchar) {
      out.push_back(static_cast<char>(cp));
      continue;
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\x{%02X}", static_cast<unsigned>(cp));
    out += buf;
  }
  return out;
}

std::string DsnAddress(std::string_view address) {
  if (IsAscii(address)) return "rfc822; " + std::string(address);
  return "utf-8; " + Utf8AddrXtext(address);
}

std::string BounceHead(const BounceParams& p) {
  const Envelope& o = *p.original;
  std::string date = FormatRfc5322Date(p.now_micros / 1000000, p.gmtoff);
  std::string arrival = FormatRfc5322Date(o.arrival_micros / 1000000, p.gmtoff);
  std::string b = Boundary(p);
  bool delay = !p.failed.empty() && p.failed.front().delayed;
  std::string out;
  Line(&out, "Received: by " + p.reporting_host + " (relay)");
  Line(&out, "\tid " + p.bounce_id + "; " + date);
  Line(&out, "From: MAILER-DAEMON@" + p.domain + " (Mail Delivery System)");
  Line(&out, "To: " + p.to);
  Line(&out, delay ? "Subject: Delayed Mail (still being retried)"
                   : "Subject: Undelivered Mail Returned to Sender");
  Line(&out, "Date: " + date);
  Line(&out, "Message-ID: <" + p.bounce_id + ".bounce@" + p.domain + ">");
  Line(&out, "Auto-Submitted: auto-replied");
  Line(&out, "MIME-Version: 1.0");
  Line(&out, "Content-Type: multipart/report; report-type=delivery-status;");
  Line(&out, "\tboundary=\"" + b + "\"");
  Line(&out, "");
  Line(&out, "This is a MIME-encapsulated message.");
  Line(&out, "");
  Line(&out, "--" + b);
  std::string text = NotificationText(p, delay);
  Line(&out, "Content-Description: Notification");
  // A UTF-8 address (SMTPUTF8) or a reply quoted with 8-bit text: the
  // part says so, rather than claim US-ASCII for bytes that are not.
  if (IsAscii(text)) {
    Line(&out, "Content-Type: text/plain; charset=us-ascii");
  } else {
    Line(&out, "Content-Type: text/plain; charset=utf-8");
    Line(&out, "Content-Transfer-Encoding: 8bit");
  }
  Line(&out, "");
  out += text;
  Line(&out, "--" + b);
  Line(&out, "Content-Description: Delivery report");
  Line(&out, "Content-Type: message/delivery-status");
  Line(&out, "");
  Line(&out, "Reporting-MTA: dns; " + p.reporting_host);
  Line(&out, "X-Relay-Queue-ID: " + o.id);
  if (!o.envid.empty()) Line(&out, "Original-Envelope-Id: " + o.envid);
  Line(&out, "Arrival-Date: " + arrival);
  for (const FailedRecipient& f : p.failed) {
    Line(&out, "");
    Line(&out, "Final-Recipient: " + DsnAddress(f.address));
    if (!f.original.empty()) Line(&out, "Original-Recipient: " + DsnAddress(f.original));
    Line(&out, std::string("Action: ") + (f.delayed ? "delayed" : "failed"));
    Line(&out, "Status: " + f.dsn);
    if (!p.remote_mta.empty()) Line(&out, "Remote-MTA: dns; " + p.remote_mta);
    Line(&out, "Diagnostic-Code: smtp; " + f.reason);
  }
  Line(&out, "");
  Line(&out, "--" + b);
  Line(&out, p.headers_only ? "Content-Description: Undelivered Message Headers"
                            : "Content-Description: Undelivered Message");
  Line(&out, p.headers_only ? "Content-Type: text/rfc822-headers" : "Content-Type: message/rfc822");
  Line(&out, "");
  return out;
}

std::string BounceTail(const BounceParams& p) { return "\r\n--" + Boundary(p) + "--\r\n"; }

bool BounceEnvelope(const Envelope& original, const std::vector<std::string>& postmaster,
                    const std::string& id, int64_t now_micros, int64_t uid, Envelope* out) {
  Envelope b;
  if (!original.sender.empty()) {
    b.recipients.push_back({original.sender, ""});
  } else if (!original.double_bounce) {
    // A bounce is never bounced: it goes to the postmaster.
    for (const std::string& a : postmaster) b.recipients.push_back({a, ""});
    b.double_bounce = true;
  } else {
    return false;
  }
  b.id = id;
  b.arrival_micros = now_micros;
  b.uid = uid;
  b.sender = "";
  *out = std::move(b);
  return true;
}

bool BounceHeadersOnly(const BounceOriginal& o, int64_t bounce_size_limit) {
  return o.env->dsn_ret == "HDRS" || o.eight_bit || o.content_size > static_cast<uint64_t>(bounce_size_limit);
}

Status WriteBounce(const BounceParams& p, const BounceOriginal& o,
                   const std::function<Status(std::string_view)>& sink) {
  Status s = sink(BounceHead(p));
  uint64_t len = o.content_size;
  off_t off = static_cast<off_t>(o.content_offset);
  std::string buf;
  bool header_done = false;
  while (s.ok() && len > 0 && !header_done) {
    buf.resize(std::min<uint64_t>(len, 65536));
    ssize_t n = pread(o.fd, buf.data(), buf.size(), off);
    if (n <= 0) return Status::FromErrno(n < 0 ? errno : EIO, "read queue file");
    buf.resize(static_cast<size_t>(n));
    if (p.headers_only) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        buf.resize(end + 2);
        header_done = true;
      }
    }
    s = sink(buf);
    off += n;
    len -= static_cast<uint64_t>(n);
  }
  return s.ok() ? sink(BounceTail(p)) : s;
}

std::string LifetimeText(int64_t seconds) {
  if (seconds <= 0) return "0 seconds";
  struct Unit { int64_t size; const char* name; };
  const Unit units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  std::string out;
  for (const Unit& u : units) {
    int64_t n = seconds / u.size;
    seconds %= u.size;
    if (n == 0) continue;
    if (!out.empty()) out += " ";
    out += std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
  }
  return out;
}

}  // namespace relay
