// SmtpServer: the ESMTP server dialogue for relay's second door (sendmail
// -bs on stdin/stdout, and relayd's loopback listener). Pure: bytes from
// the client in, replies out; the message itself goes to a Backend, which
// stores it with the same injector and durable commit as sendmail.
//
// Policy (as Postfix's smtpd for a loopback-only null client):
//  - EHLO advertises PIPELINING, SIZE (the message size limit),
//    8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and DSN; HELO works too.
//  - Commands are lines of at most kMaxCommandLine octets; replies are in
//    order, so pipelined clients just work.
//  - DATA: dot-unstuffing; the end of data is only CR LF "." CR LF: a "."
//    line ended by CR LF whose line before (or the DATA command) ended by
//    CR LF too. A bare LF ends a line inside the message (it is normalised
//    to CRLF, as Postfix 3.9's smtpd_forbid_bare_newline = normalize
//    does), but never takes part in an end of data: "<LF>.<CR><LF>",
//    "<CR><LF>.<LF>" and "<LF>.<LF>" are message text (the "." line
//    unstuffed to an empty one). A bare CR ends nothing; it is handed on
//    inside its line (the injector drops it). No SMTP smuggling through
//    relay, however the bytes are split into segments.
//  - MAIL and RCPT addresses go through ParseSmtpPath (a source route
//    checked and dropped, <@a:> no null sender; then ParseEnvelopePath,
//    the parser sendmail's arguments use): a bad one is refused at its command (501
//    5.1.7 / 501 5.1.3, naming the problem); the other recipients stay.
//    So is one longer than kMaxAddressLength once qualified with the
//    mail domain as the injector will (ServerParams::local).
//  - The HELO/EHLO argument is kept for the Received header only when it
//    is a domain or address literal (ValidHeloArgument); otherwise the
//    reply is the same but helo stays "" and ignored_helo() has the text.
//  - A refused DATA (501, 503, 554, or 451/554 from the backend) ends
//    the transaction as RSET would. RFC 2920 3.1: DATA ends a pipelined
//    group, so the client must wait for its reply; input already received
//    behind a refused DATA (the message, which must never be read as
//    commands) is dropped with "421 4.5.0 improper pipelining after a
//    refused DATA" and the session ends, as Postfix's
//    smtpd_forbid_unauth_pipelining does. A client that waits is
//    unaffected.
//  - Limits: recipients per message, non-transaction commands before MAIL
//    ("junk" commands: 421 and close), message size (552 after the data).
//  - The 250 after the final dot is sent only once the backend committed
//    the message durably; any failure to store it is 451 and keeps nothing.
//  - With a flush function set, the reply to a final dot goes out at once,
//    before anything pipelined behind it is read: a session stopped in
//    its next message (a signal, relayd's shutdown) has already told the
//    client the last one was taken, so the client does not send it again.
//
// For a client beyond loopback (relay-smtpd, `listen_allow`), as Postfix's
// submission service with smtpd_tls_auth_only and
// permit_sasl_authenticated / permit_tls_clientcerts:
//  - STARTTLS is offered; after it the server forgets everything the
//    client said (RFC 3207), including bytes pipelined after the command,
//    so no plaintext can be injected into the TLS session.
//  - AUTH PLAIN and LOGIN are offered only under TLS; MAIL before TLS is
//    530 "Must issue a STARTTLS command first", MAIL before AUTH (or an
//    accepted client certificate) is 530 "Authentication required".
//  - A wrong password is 535; after max_auth_failures of them, 421 and
//    the session ends.
#ifndef RELAY_SMTP_SMTP_SERVER_H_
#define RELAY_SMTP_SMTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"
#include "relay/message/aliases.h"

namespace relay {

inline constexpr size_t kMaxCommandLine = 2048;

struct ServerParams {
  std::string hostname = "localhost";
  uint64_t size_limit = 0;  // 0: advertise SIZE without a number
  size_t max_recipients = 1000;
  int max_junk_commands = 100;
  // Error replies (4xx, 5xx) a session may earn before it is ended with
  // a 421, as Postfix's smtpd_hard_error_limit.
  int max_errors = 20;
  // How the injector will qualify the envelope (InjectParams::local; its
  // domain is InjectParams::domain): an address that fits
  // kMaxAddressLength only until it is qualified is refused at its MAIL
  // or RCPT, not after the data. An empty domain qualifies nothing.
  LocalPolicy local = {};
  // Beyond loopback: see the header comment.
  bool offer_starttls = false;  // the driver can run a server handshake
  bool require_auth = false;    // MAIL needs TLS, then AUTH or a client cert
  int max_auth_failures = 3;
};

// Checks a user name and password (relay-smtpd: a crypt(3) hash file).
class ServerAuthenticator {
 public:
  virtual ~ServerAuthenticator() = default;
  virtual bool Check(const std::string& user, const std::string& password) = 0;
};

struct MailTransaction {
  std::string helo;    // a valid HELO/EHLO argument, or ""
  std::string sender;  // "" for <>
  std::vector<std::string> recipients;
  std::vector<std::string> orcpts;    // parallel; "" when none
  std::vector<std::string> notifies;  // parallel DSN NOTIFY; "" when none
  std::string ret;      // DSN RET
  std::string envid;    // DSN ENVID (xtext decoded)
  std::string body;     // "8BITMIME", "7BIT" or ""
  bool tls = false;       // the session was under TLS
  std::string auth_user;  // the AUTH user or client certificate; "" none
};

class ServerBackend {
 public:
  virtual ~ServerBackend() = default;
  // A message begins: the envelope is complete. A non-OK status is
  // answered 451 (temporary) or 554 (anything else) to DATA.
  virtual Status Begin(const MailTransaction& t) = 0;
  // Message bytes, dot-unstuffed, lines ended by CRLF (a very long line
  // may come in several pieces).
  virtual Status Data(std::string_view piece) = 0;
  // The final dot: commit durably. *queue_id for the 250 reply.
  virtual Status End(std::string* queue_id) = 0;
  // The client went away or the data was refused: keep nothing.
  virtual void Abort() = 0;
};

// True for a HELO/EHLO argument that may go into a Received header: a
// domain (RFC 5321 4.1.2: LDH labels of at most 63 octets, 255 in all) or
// an address literal ([192.0.2.1], [IPv6:2001:db8::1], or a general
// literal [tag:text] without parentheses); nothing else, so no comment can
// be faked in the trace.
bool ValidHeloArgument(std::string_view arg);

class SmtpServer {
 public:
  // auth may be null: then AUTH is not offered.
  SmtpServer(ServerParams params, ServerBackend* backend, ServerAuthenticator* auth = nullptr);

  // The 220 greeting, to send first.
  std::string Greeting() const;
  // Bytes from the client; returns the replies to send, in order (those
  // already handed to the flush function excepted).
  std::string Feed(std::string_view data);
  // Sends replies (in order, before Feed returns the rest); false when the
  // client is gone, which ends the session. Called with the replies so far
  // right after the reply to each final dot.
  void set_flush(std::function<bool(const std::string&)> flush) { flush_ = std::move(flush); }
  // The client's connection ended (EOF or error): abort a message.
  void Disconnected();
  // True once QUIT was answered or the session was ended by a limit.
  bool closed() const { return closed_; }
  // Messages accepted in this session.
  int accepted() const { return accepted_; }
  // True once "220 Ready to start TLS" was answered: the driver sends the
  // replies, runs the handshake and calls TlsStarted (or ends the
  // session). Feed must not be called in between.
  bool tls_requested() const { return tls_requested_; }
  // The handshake succeeded. cert_user: the accepted client certificate's
  // name, which authenticates the client as AUTH would; "" for none.
  void TlsStarted(const std::string& cert_user);
  // Set once AUTH (or a client certificate) succeeded.
  const std::string& auth_user() const { return auth_user_; }
  // AUTH failures so far, and the user name last tried, for the log.
  int auth_failures() const { return auth_failures_; }
  const std::string& last_auth_failure() const { return last_auth_failure_; }
  // The last HELO/EHLO argument left out of Received (printable, at most
  // 255 octets); "" when every one was valid.
  const std::string& ignored_helo() const { return ignored_helo_; }

 private:
  enum class State { kCommand, kData, kDataDiscard, kAuth };
  void Command(std::string_view line, std::string* out);
  // Counts a command that moves no message on (RSET, NOOP, ...) outside
  // a transaction; past max_junk_commands it answers 421, ends the
  // session and returns true.
  bool TooMuchJunk(std::string* out);
  void Hello(const std::string& verb, std::string_view args, std::string* out);
  void DataCommand(std::string_view args, std::string* out);
  // In DATA, the start of a line with no LF yet: passed on once it is
  // over 64 KiB (returns the new read position), else left in buf_.
  size_t LongDataPiece(size_t pos, std::string* out);
  // After a refused DATA: with client input already received behind it,
  // a 421 and the end of the session (see the header comment).
  void RefusedDataPipelining(bool input_behind, std::string* out);
  void DataLine(std::string_view line, bool crlf, std::string* out);
  // The final dot: commits the message, or refuses what was refused on
  // the way, and starts a new transaction.
  void EndOfData(std::string* out);
  void DataPiece(std::string_view piece, std::string* out);
  // The reply that refuses MAIL in this state, or null.
  const char* MailRefusal() const;
  void Mail(std::string_view args, std::string* out);
  // One MAIL parameter (KEY upper case); false when it is refused, with
  // the reply in *out.
  bool MailParam(const std::string& key, const std::string& value, std::string* out);
  void Rcpt(std::string_view args, std::string* out);
  void Reset();
  // A new MailTransaction that keeps the HELO name.
  void NewTransaction();
  void Reply(const char* text, std::string* out);
  // A reply starting at out[from] that is an error counts toward
  // max_errors; at the limit, a 421 follows and the session ends.
  void CountErrors(std::string& out, size_t from);
  void StartTls(std::string_view args, std::string* out);
  void Auth(std::string_view args, std::string* out);
  void AuthResponse(std::string_view line, std::string* out);
  void AuthDone(const std::string& authzid, const std::string& user, const std::string& pass,
                std::string* out);
  bool auth_offered() const { return auth_ && tls_active_; }

  ServerParams p_;
  ServerBackend* backend_;
  ServerAuthenticator* auth_;
  State state_ = State::kCommand;
  std::string buf_;
  bool closed_ = false;
  bool have_helo_ = false;
  bool in_mail_ = false;
  int junk_ = 0;
  int errors_ = 0;
  bool data_refused_ = false;  // the line just read was a refused DATA
  bool skip_line_ = false;  // the rest of an over-long line is dropped
  int accepted_ = 0;
  uint64_t data_bytes_ = 0;
  bool at_line_start_ = true;
  // The line before the current one ended with CR LF (the DATA command
  // counts): the first half of an end of data.
  bool prev_crlf_ = true;
  std::string ignored_helo_;
  std::function<bool(const std::string&)> flush_;
  Status data_error_;
  MailTransaction t_;
  bool tls_active_ = false;
  bool tls_requested_ = false;
  std::string auth_user_;
  std::string last_auth_failure_;
  int auth_failures_ = 0;
  std::string auth_mech_;     // in kAuth: "PLAIN" or "LOGIN"
  std::string auth_login_user_;  // LOGIN: the user, once given
};

}  // namespace relay

#endif  // RELAY_SMTP_SMTP_SERVER_H_
