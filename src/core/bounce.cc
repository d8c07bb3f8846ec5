#include "relay/bounce.h"

#include "relay/header.h"
#include "relay/strings.h"

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

}  // namespace

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
  Line(&out, "Content-Description: Notification");
  Line(&out, "Content-Type: text/plain; charset=us-ascii");
  Line(&out, "");
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
    Line(&out, "Final-Recipient: rfc822; " + f.address);
    if (!f.original.empty()) Line(&out, "Original-Recipient: rfc822; " + f.original);
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

}  // namespace relay
