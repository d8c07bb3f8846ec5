#include "relay/smtp/smtp_session.h"

namespace relay {
namespace {

bool HasNonAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

// An address beyond ASCII needs the server's SMTPUTF8 (RFC 6531).
bool NeedsSmtpUtf8(const MessageJob& job) {
  bool utf8 = HasNonAscii(job.sender);
  for (const std::string& r : job.recipients) utf8 |= HasNonAscii(r);
  return utf8;
}

// What a refusal means for a recipient: a 5xx is for good, anything
// else may work on a later try.
RcptState RefusalState(const Reply& r) { return r.permanent() ? RcptState::kBounced : RcptState::kDeferred; }

}  // namespace

std::string XText(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '+' || c == '=') {
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

SmtpSession::SmtpSession(SessionParams params) : params_(std::move(params)) {}

std::string SmtpSession::TakeOutput() {
  std::string out;
  out.swap(out_);
  return out;
}

std::vector<RcptOutcome> SmtpSession::TakeOutcome() {
  has_outcome_ = false;
  std::vector<RcptOutcome> out;
  out.swap(outcome_);
  return out;
}

Stage SmtpSession::stage() const {
  switch (state_) {
    case State::kGreeting: return Stage::kGreeting;
    case State::kEhlo: return Stage::kEhlo;
    case State::kHelo: return Stage::kHelo;
    case State::kStartTls: return Stage::kStartTls;
    case State::kAuth: return Stage::kAuth;
    case State::kDot: return Stage::kDot;
    case State::kRset: return Stage::kRset;
    case State::kQuit: return Stage::kQuit;
    case State::kInMessage:
      if (expect_.empty()) return Stage::kNone;
      switch (expect_.front()) {
        case Expect::kMail: return Stage::kMail;
        case Expect::kRcpt: return Stage::kRcpt;
        case Expect::kData: return Stage::kData;
        case Expect::kDot: return Stage::kDot;
        case Expect::kRset: return Stage::kRset;
        case Expect::kQuit: return Stage::kQuit;
      }
      return Stage::kNone;
    default: return Stage::kNone;
  }
}

void SmtpSession::SendEhlo() {
  caps_ = Capabilities();
  Send("EHLO " + params_.helo_name);
  state_ = State::kEhlo;
  want_ = Want::kReply;
}

void SmtpSession::SessionFail(const std::string& why) {
  if (session_error_.empty()) session_error_ = why;
  if (state_ == State::kInMessage || state_ == State::kDot || state_ == State::kRset) {
    SetOutcomes(RcptState::kDeferred, "4.4.0", why, false);
    has_outcome_ = true;
  }
  // A polite QUIT; nothing else is ever sent after a failure.
  expect_.clear();
  Send("QUIT");
  state_ = State::kQuit;
  want_ = Want::kReply;
}

void SmtpSession::OnReply(const Reply& r) {
  // Replies are counted against the lines sent: one more than was asked
  // for means the server and relay no longer agree on which reply answers
  // which command (content that smuggled a command, or a hostile server).
  // Every later reply would be taken for the wrong command, so the
  // session ends here.
  if (replies_due_ == 0) return ProtocolError(r);
  --replies_due_;
  switch (state_) {
    case State::kGreeting:
    case State::kEhlo:
    case State::kHelo:
    case State::kStartTls:
      HandleSessionReply(r);
      return;
    case State::kAuth:
      HandleAuthReply(r);
      return;
    case State::kInMessage:
    case State::kDot:
    case State::kRset:
      HandleMessageReply(r);
      return;
    case State::kQuit:
      state_ = State::kClosed;
      want_ = Want::kClosed;
      return;
    default:
      SessionFail("unexpected reply from server: " + r.Text());
      return;
  }
}

void SmtpSession::ProtocolError(const Reply& r) {
  std::string why = "protocol error: a reply with no command outstanding: " + r.Text();
  if (has_outcome_) {
    // The message just finished took a reply for its final dot, but the
    // extra one may be the real one: which reply was its own is unknown.
    // Deferred, never marked sent on a reply that may belong to another
    // command (a possible duplicate, never a loss).
    for (RcptOutcome& o : outcome_) {
      if (o.state != RcptState::kDone) continue;
      o = RcptOutcome{RcptState::kDeferred, "4.5.0", why};
      possible_duplicate_ = true;
    }
  }
  if (state_ == State::kQuit || state_ == State::kClosed) {
    session_error_ = session_error_.empty() ? why : session_error_;
    state_ = State::kClosed;
    want_ = Want::kClosed;
    return;
  }
  SessionFail(why);
}

void SmtpSession::HandleSessionReply(const Reply& r) {
  switch (state_) {
    case State::kGreeting:
      if (r.code / 100 == 2) SendEhlo();
      else SessionFail("server greeting: " + r.Text());
      return;
    case State::kEhlo:
      if (r.positive()) {
        caps_ = ParseEhlo(r);
        if (params_.require_tls && !params_.tls_active) {
          if (!caps_.starttls) return SessionFail("TLS is required but the server does not offer STARTTLS");
          Send("STARTTLS");
          state_ = State::kStartTls;
          return;
        }
        Ready();
      } else if (r.permanent() && !params_.require_tls) {
        Send("HELO " + params_.helo_name);
        state_ = State::kHelo;
      } else {
        SessionFail("EHLO: " + r.Text());
      }
      return;
    case State::kHelo:
      if (!r.positive()) return SessionFail("HELO: " + r.Text());
      caps_ = Capabilities();
      Ready();
      return;
    case State::kStartTls:
      if (r.code != 220) return SessionFail("STARTTLS: " + r.Text());
      state_ = State::kTls;
      want_ = Want::kTlsHandshake;
      return;
    default:
      return;
  }
}

void SmtpSession::Ready() {
  if (params_.sasl && !authenticated_) {
    // Credentials never cross a connection that TLS does not protect.
    if (!params_.tls_active && !params_.auth_without_tls)
      return SessionFail("credentials are configured but the connection has no TLS: not sending them");
    if (caps_.auth.empty())
      return SessionFail(params_.tls_active ? "the server offers no AUTH after STARTTLS"
                                            : "the server offers no AUTH");
    std::string err;
    mech_ = params_.sasl->Create(caps_.auth, &err);
    if (!mech_) return SessionFail(err);
    std::string initial;
    bool has_initial = false;
    Status s = mech_->Start(&initial, &has_initial);
    if (!s.ok()) return SessionFail("AUTH " + mech_->name() + ": " + s.message());
    std::string line = "AUTH " + mech_->name();
    has_pending_initial_ = false;
    if (has_initial) {
      std::string b64 = initial.empty() ? "=" : Base64Encode(initial);
      // The AUTH line must stay within 512 octets; a longer initial
      // response (a large OAuth token) follows an empty challenge.
      if (line.size() + 1 + b64.size() + 2 <= 512) {
        line += " " + b64;
      } else {
        pending_initial_ = b64;
        has_pending_initial_ = true;
      }
    }
    Send(line);
    state_ = State::kAuth;
    want_ = Want::kReply;
    return;
  }
  state_ = State::kReady;
  want_ = Want::kMessage;
}

void SmtpSession::HandleAuthReply(const Reply& r) {
  if (r.code == 334) {
    if (has_pending_initial_) {
      has_pending_initial_ = false;
      Send(pending_initial_);
      pending_initial_.clear();
      return;
    }
    std::string challenge, response;
    std::string text = r.lines.empty() ? "" : r.lines.front();
    if (!Base64Decode(text, &challenge)) {
      Send("*");  // cancel (RFC 4954 4)
      return;
    }
    Status s = mech_->Step(challenge, &response);
    if (!s.ok()) {
      Send("*");
      return;
    }
    Send(response.empty() ? "" : Base64Encode(response));
    return;
  }
  if (r.code == 235) {
    authenticated_ = true;
    mech_.reset();
    state_ = State::kReady;
    want_ = Want::kMessage;
    return;
  }
  // A refused bearer token is refreshed and tried once more in this
  // session (issue 17), before the failure defers the queue.
  std::string mech = mech_ ? mech_->name() : std::string();
  mech_.reset();
  if (!auth_renewed_ && IsBearerMechanism(mech) && BearerTokenRefused(r.code, r.Text())) {
    auth_renewed_ = true;
    if (params_.sasl->Renew()) return Ready();
  }
  std::string why = r.code == 535 ? (IsBearerMechanism(mech) ? "authentication failed (the token was refused): "
                                                               : "authentication failed (check auth_user and the password): ")
                                  : "AUTH " + mech + ": ";
  SessionFail(why + r.Text());
}

void SmtpSession::OnTlsUp() {
  params_.tls_active = true;
  SendEhlo();
}

std::string SmtpSession::MailCommand() const {
  std::string cmd = "MAIL FROM:<" + job_.sender + ">";
  // The size of what is sent: after a 7-bit conversion, the converted one.
  if (caps_.size_advertised && (!downgrade_ || job_.downgraded_size > 0))
    cmd += " SIZE=" + std::to_string(WireSize());
  // BODY=8BITMIME for 8-bit content, or when the sender declared it (-B);
  // only 8-bit content needs it, so only that is downgraded or bounced.
  if ((job_.eight_bit || job_.declared_8bitmime) && caps_.eightbitmime) cmd += " BODY=8BITMIME";
  if (NeedsSmtpUtf8(job_) && caps_.smtputf8) cmd += " SMTPUTF8";
  if (caps_.dsn && !job_.dsn_ret.empty()) cmd += " RET=" + job_.dsn_ret;
  if (caps_.dsn && !job_.envid.empty()) cmd += " ENVID=" + XText(job_.envid);
  return cmd;
}

std::string SmtpSession::RcptCommand(size_t i) const {
  std::string cmd = "RCPT TO:<" + job_.recipients[i] + ">";
  if (caps_.dsn && i < job_.notifies.size() && !job_.notifies[i].empty()) cmd += " NOTIFY=" + job_.notifies[i];
  if (caps_.dsn && i < job_.orcpts.size() && !job_.orcpts[i].empty())
    cmd += " ORCPT=rfc822;" + XText(job_.orcpts[i]);
  return cmd;
}

void SmtpSession::SendMessage(const MessageJob& job) {
  job_ = job;
  outcome_.assign(job.recipients.size(), RcptOutcome());
  has_outcome_ = false;
  possible_duplicate_ = false;
  mail_ok_ = data_ok_ = false;
  next_rcpt_reply_ = next_rcpt_send_ = 0;
  expect_.clear();

  // What the server said it cannot take is bounced before MAIL.
  downgrade_ = job.eight_bit && !caps_.eightbitmime;
  if (caps_.size_limit > 0 && WireSize() > caps_.size_limit) {
    SetOutcomes(RcptState::kBounced, "5.3.4",
            "message size " + std::to_string(WireSize()) + (downgrade_ ? " (converted to 7-bit)" : "") +
                " exceeds the server's limit of " + std::to_string(caps_.size_limit) + " bytes",
            false);
    return FinishMessage();
  }
  if (downgrade_ && !job.can_downgrade) {
    SetOutcomes(RcptState::kBounced, "5.6.3",
            "the message has 8-bit content the server cannot take (no 8BITMIME) and it cannot be "
            "converted to 7-bit without damage",
            false);
    return FinishMessage();
  }
  if (NeedsSmtpUtf8(job) && !caps_.smtputf8) {
    SetOutcomes(RcptState::kBounced, "5.6.7",
            "an address needs SMTPUTF8 and the server does not support it", false);
    return FinishMessage();
  }
  state_ = State::kInMessage;
  want_ = Want::kReply;
  SendExpecting(MailCommand(), Expect::kMail);
  // With PIPELINING the whole envelope goes at once; without it, each
  // reply sends the next command (OnMailReply, OnRcptReply).
  if (caps_.pipelining) {
    for (size_t i = 0; i < job_.recipients.size(); ++i) SendExpecting(RcptCommand(i), Expect::kRcpt);
    SendExpecting("DATA", Expect::kData);
  }
}

void SmtpSession::HandleMessageReply(const Reply& r) {
  if (expect_.empty()) return SessionFail("unexpected reply from server: " + r.Text());
  Expect e = expect_.front();
  expect_.erase(expect_.begin());
  switch (e) {
    case Expect::kMail:
      return OnMailReply(r);
    case Expect::kRcpt:
      return OnRcptReply(r);
    case Expect::kData:
      data_ok_ = r.code == 354;
      if (!data_ok_ && mail_ok_) SetOutcomes(RefusalState(r), r.dsn(), "DATA: " + r.Text(), true);
      return AfterEnvelopeReplies();
    case Expect::kDot:
      // The final reply for every recipient the server accepted.
      SetOutcomes(r.code / 100 == 2 ? RcptState::kDone : RefusalState(r), r.dsn(), r.Text(), true);
      return FinishMessage();
    case Expect::kRset:
      FinishMessage();
      if (!r.positive()) SessionFail("RSET: " + r.Text());
      return;
    case Expect::kQuit:
      return;
  }
}

void SmtpSession::OnMailReply(const Reply& r) {
  mail_ok_ = r.code / 100 == 2;
  if (!mail_ok_) SetOutcomes(RefusalState(r), r.dsn(), "MAIL FROM: " + r.Text(), false);
  if (caps_.pipelining) return;  // RCPT and DATA are on their way already
  if (mail_ok_) SendExpecting(RcptCommand(next_rcpt_send_++), Expect::kRcpt);
  else SendExpecting("RSET", Expect::kRset);
}

void SmtpSession::OnRcptReply(const Reply& r) {
  // Replies come in the order the RCPTs went out. After a refused MAIL
  // (pipelined RCPTs) every outcome is already set and stays.
  size_t i = next_rcpt_reply_++;
  if (mail_ok_ && i < outcome_.size()) {
    RcptOutcome& o = outcome_[i];
    o.dsn = r.dsn();
    o.reason = r.Text();
    o.state = r.code / 100 == 2 ? RcptState::kAccepted : RefusalState(r);
  }
  if (caps_.pipelining) return;
  // One at a time: the next RCPT, then DATA if anyone was accepted.
  if (next_rcpt_send_ < job_.recipients.size()) SendExpecting(RcptCommand(next_rcpt_send_++), Expect::kRcpt);
  else if (AnyAccepted()) SendExpecting("DATA", Expect::kData);
  else SendExpecting("RSET", Expect::kRset);
}

bool SmtpSession::AnyAccepted() const {
  bool any = false;
  for (const RcptOutcome& o : outcome_) any |= o.state == RcptState::kAccepted;
  return any;
}

void SmtpSession::AfterEnvelopeReplies() {
  if (data_ok_ && AnyAccepted() && mail_ok_) {
    state_ = State::kBody;
    want_ = Want::kBody;
    return;
  }
  if (data_ok_) {
    // The server said 354 although no recipient was accepted (possible
    // with pipelining): end the empty transaction at once.
    SendExpecting(".", Expect::kDot);
    state_ = State::kDot;
    return;
  }
  SendExpecting("RSET", Expect::kRset);
  state_ = State::kRset;
}

void SmtpSession::OnBodySent() {
  Send(".");
  expect_.assign(1, Expect::kDot);
  state_ = State::kDot;
  want_ = Want::kReply;
}

void SmtpSession::FinishMessage() {
  for (RcptOutcome& o : outcome_) {
    if (o.state == RcptState::kPending || o.state == RcptState::kAccepted) {
      o.state = RcptState::kDeferred;
      o.dsn = "4.4.0";
      if (o.reason.empty()) o.reason = "no final reply from server";
    }
  }
  has_outcome_ = true;
  expect_.clear();
  state_ = State::kReady;
  want_ = Want::kMessage;
}

void SmtpSession::SetOutcomes(RcptState state, const std::string& dsn, const std::string& reason,
                              bool only_accepted) {
  for (RcptOutcome& o : outcome_) {
    bool hit = only_accepted ? o.state == RcptState::kAccepted
                             : (o.state == RcptState::kPending || o.state == RcptState::kAccepted);
    if (!hit) continue;
    o.state = state;
    o.dsn = dsn;
    o.reason = reason;
  }
}

void SmtpSession::OnConnectionLost(const std::string& why) {
  bool in_message = state_ == State::kInMessage || state_ == State::kBody ||
                    state_ == State::kDot || state_ == State::kRset;
  if (state_ == State::kDot) {
    for (const RcptOutcome& o : outcome_) possible_duplicate_ |= o.state == RcptState::kAccepted;
  }
  if (in_message) {
    SetOutcomes(RcptState::kDeferred, "4.4.2", "lost connection: " + why, false);
    has_outcome_ = true;
  }
  if (state_ != State::kQuit && session_error_.empty()) session_error_ = why;
  expect_.clear();
  state_ = State::kClosed;
  want_ = Want::kClosed;
}

void SmtpSession::Quit() {
  Send("QUIT");
  state_ = State::kQuit;
  want_ = Want::kReply;
}

}  // namespace relay
