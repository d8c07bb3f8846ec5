// The queue file: one spooled message, envelope and content, in one file.
//
// Format, version 2 (written), and version 1 (still read). Text records,
// one per line, "KEYWORD VALUE\n"; a value never contains CR, LF or NUL
// (the encoder refuses them, so nothing from the input can forge a
// record):
//
//   relay-queue 2            magic and version; always the first line
//   id QUEUEID
//   time MICROS              arrival, microseconds since the epoch
//   uid UID                  submitting uid, as the injector saw it (the
//                            caller of sendmail, or the listener's client
//                            from /proc/net/tcp); shown by mailq and in the
//                            "(queue active)" log line. Readers believe it
//                            only for a file owned by the relay user (the
//                            spool's owner): the listener's files and
//                            bounces. Any other file is its owner's, as
//                            the kernel says, whatever it records
//                            (SubmitterUid in spool.h): a file planted by
//                            the relaydrop group cannot claim to be root's.
//                            A `chown -R relay` of the spool makes every
//                            file the relay user's, so from then on every
//                            recorded uid is believed, planted ones too:
//                            chown only queue/'s and tmp/'s directories
//                            (scripts/install-spool does), never the files
//   from ADDRESS             envelope sender; "from " alone is the null sender
//   rcpt ADDRESS             one per recipient, in delivery order
//   orcpt ADDRESS            (optional) original recipient of the rcpt
//                            just before it, when alias expansion changed it
//                            or an SMTP client gave ORCPT
//   rcpt-notify VALUE        (optional, version 2) DSN NOTIFY of the rcpt
//                            just before it: "NEVER" or a comma list of
//                            SUCCESS, FAILURE, DELAY (RFC 3461 4.1), from
//                            its RCPT command or from -N; absent: none given
//   ret full|hdrs            (optional) DSN RET from -R
//   envid VALUE              (optional) DSN ENVID from -V
//   body 7BIT|8BITMIME       (optional) body type declared with -B
//   queue-only               (optional) -odq: wait for the next queue run
//   double-bounce            (optional) a notice to postmaster that a bounce
//                            failed; if it fails too it is kept in failed/
//   content                  the content starts after this line
//   ...content...            the message as it goes on the wire: CRLF line
//                            ends, dot-stuffed, no lone "." terminator
//   end SIZE 7bit|8bit       required trailer: SIZE is the content's length
//                            in bytes, then whether it has 8-bit bytes
//
// Version 1 differs in one record: instead of rcpt-notify it had one
//   notify VALUE             (optional) DSN NOTIFY from -N, for the message
// after the rcpt records; the reader gives that value to every recipient.
// A version 1 file with rcpt-notify, or a version 2 file with notify, is
// malformed.
//
// Unknown keywords before "content" are an error for this version: a newer
// writer bumps the version. An entry whose trailer is missing or does not
// match the file's size is corrupt (a writer that died before commit can
// leave that only in tmp/, never in queue/).
#ifndef RELAY_QUEUE_QUEUE_FILE_H_
#define RELAY_QUEUE_QUEUE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/base/status.h"

namespace relay {

struct Recipient {
  Recipient() = default;
  Recipient(std::string a, std::string orig = "", std::string n = "")
      : address(std::move(a)), original(std::move(orig)), notify(std::move(n)) {}
  std::string address;
  std::string original;  // ORCPT; empty when the same as address
  std::string notify;    // DSN NOTIFY; "" when not given
};

struct Envelope {
  std::string id;
  int64_t arrival_micros = 0;
  int64_t uid = -1;
  std::string sender;  // "" is the null sender
  std::vector<Recipient> recipients;
  std::string dsn_ret;
  std::string envid;
  std::string body_type;
  bool queue_only = false;
  bool double_bounce = false;
};

struct Trailer {
  uint64_t content_size = 0;
  bool eight_bit = false;
};

// The bytes of the head: every record from the magic line through
// "content\n". Fails (kSoftware) if a value holds CR, LF or NUL.
Status EncodeHead(const Envelope& env, std::string* out);
std::string EncodeTrailer(const Trailer& t);

// Parses a head. `data` must begin at the start of the file and contain at
// least the whole head; *head_size is set to the offset of the content.
// A DataErr status describes what is malformed; a head that is merely not
// complete yet in `data` gives *incomplete = true. Every envelope value is
// checked as the injector would have written it: each from/rcpt is one
// plain address by the injector's parser (address.h), an orcpt has no
// control character, notify/ret/body hold only their keywords. A forged
// record (a CR, a space, a second command) is a DataErr, never sent.
Status ParseHead(std::string_view data, Envelope* env, size_t* head_size,
                 bool* incomplete);
// The envelope checks of ParseHead on their own. The injector runs them
// before it writes a head, so that nothing it commits (and answers 250 or
// exits 0 for) is refused by the reader later and lost to corrupt/.
Status CheckEnvelope(const Envelope& env);
// Parses the last bytes of a file (at least the whole trailer line).
Status ParseTrailer(std::string_view tail, Trailer* t, size_t* trailer_size);

// The header block of the message in a whole queue file, as it goes on
// the wire (CRLF line ends), without the blank line that ends it; empty
// when the content has no blank line. The head is found by ParseHead,
// never by searching for its records. A DataErr for a malformed or
// incomplete head.
Status ContentHeaderBlock(std::string_view file, std::string_view* block);

}  // namespace relay

#endif  // RELAY_QUEUE_QUEUE_FILE_H_
