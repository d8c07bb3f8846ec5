// The injector: what `sendmail` does with a message between reading it and
// committing it to the spool. It consumes the input in pieces (memory does
// not grow with the message, only with the header block, capped at
// kMaxHeaderBytes), completes the header the way Postfix's cleanup does,
// and writes a queue file through a MessageSink (spool.h). It does no other I/O, so
// the golden tests drive it with fixed clocks, IDs and hosts.
//
// Header completion:
//  - prepends "Received: by HOST (relay, from userid UID) id QUEUEID; DATE";
//  - removes Bcc, Resent-Bcc, Return-Path and Content-Length (folded lines too);
//  - qualifies unqualified addresses in From, Sender, Reply-To, To, Cc and
//    their Resent- forms with the domain;
//  - adds Message-ID, Date and From when missing (and Resent-Message-ID,
//    Resent-Date, Resent-From when the message has Resent- fields but not
//    those); nothing else, and no To for Bcc-only mail.
// Everything else keeps its order, case and folding byte for byte; only
// line ends become CRLF, and lines over 998 octets are broken by inserting
// CRLF SPACE, as Postfix's smtp_line_length_limit does.
#ifndef RELAY_INJECT_INJECT_H_
#define RELAY_INJECT_INJECT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/inject/args.h"
#include "relay/message/header.h"
#include "relay/message/line_reader.h"
#include "relay/queue/queue_file.h"
#include "relay/queue/spool.h"
#include "relay/base/status.h"

namespace relay {

inline constexpr size_t kMaxHeaderBytes = 1024 * 1024;
inline constexpr int kMaxReceivedHeaders = 50;
inline constexpr size_t kMaxLineLength = 998;

struct Submitter {
  int64_t uid = 0;
  std::string login;      // from the passwd entry of the real uid
  std::string full_name;  // -F, else NAME, else GECOS; may be empty
};

struct InjectParams {
  Options opts;
  std::string domain;    // qualifies addresses; Message-ID right-hand side
  std::string hostname;  // the host's FQDN, for Received
  LocalPolicy local;
  const Aliases* aliases = nullptr;  // may be null: no aliases
  Submitter submitter;
  int64_t now_micros = 0;
  long gmtoff = 0;          // local zone offset, seconds east of UTC
  std::string queue_id;
  std::string msgid_nonce;  // a few random characters for Message-ID
  // For mail that came over SMTP: "HELO (localhost [127.0.0.1])" makes the
  // Received header "from HELO (...) by HOST (relay) with ESMTP"; empty for
  // sendmail's "by HOST (relay, from userid UID)".
  std::string received_from;
  // RFC 3848's protocol name: ESMTPS under TLS, ESMTPA or ESMTPSA after
  // AUTH; and the authenticated user, which Received names as Postfix
  // does: "(Authenticated sender: NAME)". SubmitBackend fills it in only
  // with name_auth_user (listen_auth_header; off by default, as Postfix's
  // smtpd_sasl_authenticated_header: it tells every recipient a login).
  std::string received_with = "ESMTP";
  // DSN ORCPT from an SMTP client, parallel to opts.recipients ("" none):
  // kept as each recipient's original address in place of the alias.
  std::vector<std::string> orcpts;
  // DSN NOTIFY from an SMTP client, parallel to opts.recipients in the same
  // way ("" none); a recipient without one gets opts.dsn_notify (-N).
  std::vector<std::string> notifies;
  std::string received_auth;
  bool name_auth_user = false;
  uint64_t size_limit = 0;  // maximum content bytes, 0 for none
  // Called every kSpaceCheckBytes of content written, after the queue
  // file has reserved the space up to the next call (MessageSink::Reserve);
  // a non-OK status (a TempFail: the spool is nearly full) stops the
  // injection. May be null.
  std::function<Status()> space_check;
};

inline constexpr uint64_t kSpaceCheckBytes = 1 << 20;

// An element of a -t header field that gave no recipient: one that cannot
// be parsed as an address, or an address that cannot go into an envelope
// (control character, over 320 octets). The message goes to the others;
// the caller logs each of these.
struct SkippedRecipient {
  std::string field;   // "To", "Resent-Cc", ...
  std::string text;    // the element, whitespace collapsed, cut at 200 octets
  std::string reason;
  // "-t: skipped 'TEXT' in the FIELD header: REASON", printable.
  std::string Describe() const;
};

// Parses and checks the recipient arguments: each may be an address list;
// an empty one, one with CR/LF/NUL, one starting with '-' that was not
// after "--", or one over 320 octets is a Usage error naming it.
Status ArgumentRecipients(const Options& opts, std::vector<std::string>* out);

// Expands each address through the aliases (qualifying local ones) and
// de-duplicates the result case-insensitively, keeping first-seen order.
// originals and notifies, when given, are parallel to addrs ("" none):
// every address an alias gives inherits the ORCPT and NOTIFY of its
// argument; a recipient without a NOTIFY gets default_notify.
std::vector<Recipient> ExpandRecipients(const std::vector<std::string>& addrs,
                                        const Aliases* aliases,
                                        const LocalPolicy& local,
                                        const std::vector<std::string>* originals = nullptr,
                                        const std::vector<std::string>* notifies = nullptr,
                                        const std::string& default_notify = "");

class Injector : private LineSink {
 public:
  Injector(InjectParams params, MessageSink* out);

  // Checks the command-line sender and recipients. Call before Feed; on
  // failure nothing has been written.
  Status Start();
  // Feeds input. Returns false once no more input is wanted: the lone "."
  // was seen (without -i), or an error happened (see Finish).
  bool Feed(std::string_view data);
  // Says that the next Feed holds all of the input: the caller has read it
  // to its end before handing any of it over (sendmail does so with a
  // message under 64 KiB, which most are). The first space check then
  // reserves nothing: the writes follow it at once, with no input to wait
  // for, so no other writer's check needs to see them in advance; and a
  // small message is spared an fallocate and the truncate that gives the
  // unused space back (about a quarter of its wall time on this project's
  // benchmark disk: bench/README.md, "The space reservation").
  void WholeInputFollows() { whole_input_ = true; }
  // Ends the input and writes the trailer. The caller then commits the
  // MessageSink. Returns the first error met while reading, if any.
  Status Finish();

  const Envelope& envelope() const { return envelope_; }
  const Status& status() const { return status_; }
  uint64_t content_size() const { return content_size_; }
  // With -t: the header elements that were skipped, field by field.
  const std::vector<SkippedRecipient>& skipped() const { return skipped_; }

 private:
  enum class Phase { kLeading, kHeaders, kBody, kDone };
  enum class Dest { kSkip, kHeader, kBody };

  bool OnPiece(std::string_view text, bool end_of_line) override;
  bool StartLine(std::string_view text, bool end_of_line);
  Status EndHeaders();
  Status ResolveEnvelope();
  Status WriteHeaders();
  void AddMissingHeaders(std::vector<std::string>* added) const;
  // Writes a piece of a content line in wire form (see queue_file.h).
  bool EmitPiece(std::string_view text, bool starts_line, bool ends_line);
  bool EmitLine(std::string_view line) { return EmitPiece(line, true, true); }
  // Hands what wire_ holds to the sink.
  bool FlushWire();
  bool Fail(Status s);

  InjectParams p_;
  MessageSink* out_;
  LineSplitter splitter_;
  Status status_;
  Phase phase_ = Phase::kLeading;
  Dest dest_ = Dest::kSkip;
  bool mid_line_ = false;
  std::vector<HeaderField> headers_;
  size_t header_bytes_ = 0;
  std::vector<std::string> arg_recipients_;
  std::vector<SkippedRecipient> skipped_;
  std::string sender_;
  Envelope envelope_;
  uint64_t content_size_ = 0;
  size_t column_ = 0;  // octets on the current wire line
  uint64_t next_space_check_ = 0;
  bool whole_input_ = false;  // WholeInputFollows
  bool eight_bit_ = false;
  static constexpr size_t kWireBatch = 64 * 1024;
  std::string wire_;  // lines in wire form not yet handed to out_
};

}  // namespace relay

#endif  // RELAY_INJECT_INJECT_H_
