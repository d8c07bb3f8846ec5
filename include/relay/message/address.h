// RFC 5322 address lists: parsing for recipients and senders, and the
// in-place qualification of unqualified addresses in header fields.
//
// The parser is pure (bytes in, values out) and lenient in the way mail
// software has to be: an element it cannot parse is skipped and counted, the
// rest of the list is still returned. It never reads beyond the given view.
#ifndef RELAY_MESSAGE_ADDRESS_H_
#define RELAY_MESSAGE_ADDRESS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"

namespace relay {

// Longest envelope address relay accepts (RFC 5321 4.5.3.1: 64 + 1 + 255).
inline constexpr size_t kMaxAddressLength = 320;

// One mailbox of an address list. Groups are flattened into their members.
struct Mailbox {
  // The display name as written, with folding whitespace collapsed to single
  // spaces and comments dropped; quotes of a quoted-string display name are
  // removed. Encoded words are left as they are. Empty when there is none.
  std::string display_name;
  // The local part as written, without comments or folding whitespace; a
  // quoted local part keeps its quotes ("john doe"). Dot-atoms are joined
  // with single dots.
  std::string local_part;
  // The domain without comments or whitespace, or a domain literal with its
  // brackets. Empty for an unqualified address such as "root".
  std::string domain;
  // Offset in the parsed text just after the last character of the local
  // part: where "@domain" goes to qualify an unqualified address.
  // Meaningful only when domain is empty.
  size_t qualify_at = 0;

  // "local@domain", or just "local" when unqualified.
  std::string addr_spec() const;
};

struct AddressList {
  std::vector<Mailbox> mailboxes;
  // Elements (between top-level commas) that could not be parsed and were
  // skipped.
  int errors = 0;
  // The text of each skipped element, whitespace collapsed, so that a
  // caller can say which one it dropped (one entry per error).
  std::vector<std::string> skipped;
};

// Parses text as an RFC 5322 address-list: mailboxes ("a@x", "Joe <b@y>",
// "b@y (Joe)", "\"Doe, John\" <j@x>"), groups ("team: a@x, b@y;",
// "undisclosed-recipients:;"), comments anywhere CFWS is allowed, quoted
// local parts, domain literals, obsolete routes (<@r1,@r2:a@x>, route
// dropped), and folding whitespace (CR and LF count as whitespace, so a raw
// folded header value can be passed as it is). Empty elements (",,") are
// ignored, not errors. Local parts may have doubled, leading or trailing
// dots ("john..doe"), which exist in the wild; two words without a dot
// ("Joe Smith") are an error, not an address.
AddressList ParseAddressList(std::string_view text);

// Returns text with "@" + domain inserted after the local part of every
// unqualified mailbox, and every other byte unchanged. Used on From, To,
// Cc and friends so that cron's "root (Cron Daemon)" leaves as
// "root@example.com (Cron Daemon)". Elements that do not parse are left
// as they are; with an empty domain the text is returned unchanged.
std::string QualifyAddresses(std::string_view text, std::string_view domain);

// Parses the argument of -f or -r: the first address of an RFC 5322 parse
// of the value. "" and "<>" (and only those, after trimming whitespace)
// give the null sender, returned as "". A source route ("<@a:x@y>") is
// checked and removed as ParseSmtpPath does, and a domain literal checked
// as ParseEnvelopePath does. Returns a Usage status when the value holds
// no address, or a route with none ("@a:"), or a bad route or literal.
Status ParseSenderArgument(std::string_view value, std::string* sender);

// Checks an address before it may enter an envelope record: no CR, LF, NUL
// or other control character, not longer than kMaxAddressLength, not empty.
// The returned status is a Usage error naming the problem; callers that
// check header-derived addresses re-kind it as needed.
Status CheckEnvelopeAddress(std::string_view address);

// Checks the address of an SMTP path (MAIL FROM:<...>, RCPT TO:<...>; the
// text between the brackets, any source route removed) with the parser
// sendmail's arguments go through: it must be exactly one mailbox written
// as a bare addr-spec ("user@example.com", "\"john doe\"@example.com",
// "root"), with no display name, group, comment, white space, backslash or
// unbalanced quote outside a quoted string; a domain literal must be an
// IPv4 address ("[192.0.2.1]") or "[IPv6:" address "]". On success
// *address is the path as given. Otherwise a Usage status naming what is
// wrong ("white space outside a quoted string", "an unbalanced quote",
// "a bad address literal \"[1.2.3]\" ...", ...).
Status ParseEnvelopePath(std::string_view path, std::string* address);

// Parses the path of MAIL FROM or RCPT TO: the text between < and >. ""
// is the null sender (only when nothing at all is between the brackets).
// An RFC 5321 source route ("@a.example,@b.example:x@y.example") is
// checked hop by hop (each "@" and a domain or address literal) and
// removed, as RFC 5321 3.3 and C.3 allow; the rest goes through
// ParseEnvelopePath. A route with no mailbox ("@a:") is refused, not taken
// for "<>". On success *address is the mailbox; otherwise a Usage status
// naming what is wrong ("a source route with no mailbox", ...).
Status ParseSmtpPath(std::string_view path, std::string* address);

// addr with "@domain" appended when it has no '@' (an unqualified name).
std::string Qualified(const std::string& addr, const std::string& domain);

}  // namespace relay

#endif  // RELAY_MESSAGE_ADDRESS_H_
