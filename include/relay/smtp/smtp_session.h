// SmtpSession: the SMTP client as a state machine (after OpenSMTPD's
// smtp_client.c). It is fed events (a reply, the TLS handshake done, the
// message body sent, the connection lost) and says what it wants next and
// which bytes to send. It never touches a socket, so it is tested with
// scripted transcripts and fuzzed.
//
// Policy it implements (see relayd(8)):
//  - EHLO; HELO only when EHLO gets a 5xx and TLS is not required.
//  - With TLS required, STARTTLS must be offered and succeed before anything
//    else; afterwards the capabilities are read again from a new EHLO.
//  - A failure before MAIL (greeting, EHLO, STARTTLS, AUTH) defers: one bad
//    or forged reply must not bounce the queue.
//  - PIPELINING when offered: MAIL, every RCPT and DATA in one write.
//  - SIZE: a message larger than the server's limit is bounced before MAIL.
//    SIZE= declares the bytes actually sent: after a 7-bit conversion,
//    the converted size (MessageJob::downgraded_size).
//    8-bit content without 8BITMIME is converted to quoted-printable when
//    that can be done MIME-correctly (downgrade.h), else bounced before
//    MAIL; SMTPUTF8 addresses need SMTPUTF8 or bounce. Never sent as is.
//  - Per recipient: 2xx then a 2xx to the final dot is done; 4xx (and any
//    trouble with the connection) deferred; 5xx bounced.
//  - Replies are counted against the lines sent. A reply with none due is
//    a protocol error: the session ends, and a message whose dot reply was
//    just taken is deferred (possible duplicate), not marked sent.
#ifndef RELAY_SMTP_SMTP_SESSION_H_
#define RELAY_SMTP_SMTP_SESSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "relay/smtp/sasl.h"
#include "relay/smtp/smtp_reply.h"

namespace relay {

struct SessionParams {
  std::string helo_name;
  bool require_tls = true;  // starttls or smtps
  bool tls_active = false;  // smtps: TLS is up before the greeting
  // Set when credentials are configured: the session logs in once, after
  // the final EHLO, before the first message.
  SaslClientFactory* sasl = nullptr;
  // Credentials may go over a connection without TLS: only ever set for a
  // loopback smarthost whose config says so explicitly.
  bool auth_without_tls = false;
};

struct MessageJob {
  std::string sender;
  std::vector<std::string> recipients;
  std::vector<std::string> orcpts;  // parallel to recipients; "" for none
  uint64_t size = 0;                // bytes of content in wire form
  // Bytes in wire form after the 7-bit conversion (downgrade.h), which
  // SIZE= then declares and the server's limit is checked against; 0 when
  // not measured: SIZE= is then left out for a converted message.
  uint64_t downgraded_size = 0;
  bool eight_bit = false;
  bool can_downgrade = false;       // see downgrade.h: QP for a 7-bit server
  bool declared_8bitmime = false;   // sendmail -B8BITMIME: say so when offered
  std::vector<std::string> notifies;  // parallel to recipients; "" or e.g. "SUCCESS,FAILURE"
  std::string dsn_ret;     // "" / "FULL" / "HDRS"
  std::string envid;
};

enum class RcptState { kPending, kAccepted, kDone, kDeferred, kBounced };

struct RcptOutcome {
  RcptState state = RcptState::kPending;
  std::string dsn;     // "2.0.0", "5.1.1", ...
  std::string reason;  // printable reply text or local diagnosis
};

// Which reply the session waits for; selects the timeout.
enum class Stage { kGreeting, kEhlo, kHelo, kStartTls, kAuth, kMail, kRcpt, kData, kDot, kRset, kQuit, kNone };

class SmtpSession {
 public:
  enum class Want {
    kReply,         // read a reply (with the timeout for stage())
    kTlsHandshake,  // run the TLS handshake, then OnTlsUp()
    kBody,          // send the message content, then OnBodySent()
    kMessage,       // ready: call SendMessage() or Quit()
    kClosed,        // done; close the connection
  };

  explicit SmtpSession(SessionParams params);

  void OnReply(const Reply& reply);
  void OnTlsUp();
  void OnBodySent();
  // The connection broke, timed out, or the reply was malformed. Everything
  // in flight is deferred with why.
  void OnConnectionLost(const std::string& why);

  void SendMessage(const MessageJob& job);
  void Quit();

  Want want() const { return want_; }
  Stage stage() const;
  // Bytes to write before doing what want() says.
  std::string TakeOutput();

  // After a message finished (want() back to kMessage or kClosed): the
  // outcome of each of its recipients, in job order. Cleared by taking.
  bool HasOutcome() const { return has_outcome_; }
  std::vector<RcptOutcome> TakeOutcome();
  // True when the connection dropped after the final dot and before its
  // reply: the server may have accepted the message (a possible duplicate).
  bool possible_duplicate() const { return possible_duplicate_; }
  // The body must go through a Downgrader (8-bit message, server without
  // 8BITMIME, message convertible).
  bool downgrade() const { return downgrade_; }

  // Why the session failed before or between messages ("" if it did not):
  // every job not yet started is to be deferred with this reason.
  const std::string& session_error() const { return session_error_; }
  const Capabilities& capabilities() const { return caps_; }
  bool tls_active() const { return params_.tls_active; }
  bool authenticated() const { return authenticated_; }

 private:
  enum class State {
    kGreeting, kEhlo, kHelo, kStartTls, kTls, kAuth, kReady, kInMessage, kBody, kDot, kRset, kQuit,
    kClosed
  };
  enum class Expect { kMail, kRcpt, kData, kDot, kRset, kQuit };

  void SessionFail(const std::string& why);
  void Ready();  // after the last EHLO: log in if configured, else ready
  void HandleAuthReply(const Reply& r);
  void SendEhlo();
  // Every line sent is a command (or an AUTH response, or the final dot)
  // that gets exactly one reply.
  void Send(const std::string& line) {
    out_ += line + "\r\n";
    ++replies_due_;
  }
  // A command in a message, whose reply HandleMessageReply awaits as e.
  void SendExpecting(const std::string& line, Expect e) {
    Send(line);
    expect_.push_back(e);
  }
  // A reply arrived with none due: ends the session (see OnReply).
  void ProtocolError(const Reply& r);
  void HandleSessionReply(const Reply& r);
  void HandleMessageReply(const Reply& r);
  void OnMailReply(const Reply& r);
  void OnRcptReply(const Reply& r);
  bool AnyAccepted() const;  // a recipient awaits the data
  void AfterEnvelopeReplies();
  void FinishMessage();
  // Sets the outcome of the recipients still open (pending or accepted),
  // or with only_accepted of those the server accepted.
  void SetOutcomes(RcptState state, const std::string& dsn, const std::string& reason, bool only_accepted);
  std::string MailCommand() const;
  std::string RcptCommand(size_t i) const;
  // The bytes the body will have on the wire (0: a conversion not measured).
  uint64_t WireSize() const { return downgrade_ ? job_.downgraded_size : job_.size; }

  SessionParams params_;
  State state_ = State::kGreeting;
  Want want_ = Want::kReply;
  Capabilities caps_;
  std::string out_;
  std::string session_error_;
  std::unique_ptr<SaslMechanism> mech_;
  std::string pending_initial_;  // too long for the AUTH line (RFC 4954 4)
  bool has_pending_initial_ = false;
  size_t replies_due_ = 1;  // the greeting, then one per line sent

  // The message in flight.
  MessageJob job_;
  std::vector<RcptOutcome> outcome_;
  std::vector<Expect> expect_;  // replies still due, in order
  size_t next_rcpt_reply_ = 0;  // which recipient the next RCPT reply is for
  size_t next_rcpt_send_ = 0;   // without pipelining: next RCPT to send
  bool mail_ok_ = false;
  bool data_ok_ = false;
  bool has_outcome_ = false;
  bool possible_duplicate_ = false;
  bool authenticated_ = false;
  bool auth_renewed_ = false;  // one more AUTH with a fresh token was tried
  bool downgrade_ = false;
};

// xtext (RFC 3461 4): '+', '=' and bytes outside 33-126 become "+HH".
std::string XText(std::string_view s);

}  // namespace relay

#endif  // RELAY_SMTP_SMTP_SESSION_H_
