#include "relay/deliver/smarthost_client.h"

#include <algorithm>
#include <chrono>

#include "relay/base/credentials.h"
#include "relay/base/env.h"
#include "relay/deliver/connection.h"
#include "relay/deliver/oauth_refresh.h"
#include "relay/deliver/sasl_cyrus.h"

namespace relay {

void HostHealth::MarkDown(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  down_until_[host] = Env::Default()->NowMicros() + kHostPenaltySeconds * 1000000;
}

void HostHealth::MarkUp(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  down_until_.erase(host);
}

bool HostHealth::IsDown(const std::string& host) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = down_until_.find(host);
  return it != down_until_.end() && it->second > Env::Default()->NowMicros();
}

std::string HostKey(const Smarthost& h) { return h.host + ":" + std::to_string(h.effective_port()); }

std::vector<const Smarthost*> FailoverOrder(const std::vector<Smarthost>& hosts, const HostHealth& health) {
  std::vector<const Smarthost*> up, down;
  for (const Smarthost& h : hosts) (health.IsDown(HostKey(h)) ? down : up).push_back(&h);
  up.insert(up.end(), down.begin(), down.end());
  return up;
}

int StageTimeoutMs(const Config& cfg, Stage stage) {
  int64_t s = cfg.timeout_command;
  switch (stage) {
    case Stage::kGreeting: s = cfg.timeout_greeting; break;
    case Stage::kData: s = cfg.timeout_data_init; break;
    case Stage::kDot: s = cfg.timeout_data_done; break;
    default: break;
  }
  return static_cast<int>(std::min<int64_t>(s * 1000, 1 << 30));
}

SmarthostClient::SmarthostClient(const Config& cfg, std::string helo_name, std::shared_ptr<TlsContext> tls,
                                 Observer* observer)
    : cfg_(cfg), helo_name_(std::move(helo_name)), tls_(std::move(tls)), observer_(observer) {}

SmarthostClient::~SmarthostClient() = default;

Status SmarthostClient::Open(const Smarthost& h, Step* failed) {
  Disconnect();
  parser_.Clear();
  host_ = h.host;
  std::unique_ptr<Connection> c;
  auto t0 = std::chrono::steady_clock::now();
  Status s = Connection::Open(h.host, h.effective_port(), static_cast<int>(cfg_.timeout_connect * 1000), &c, &peer_);
  SetConnection(std::move(c));
  *failed = Step::kConnect;
  if (!s.ok()) return s;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  observer_->Connected(peer_, ms);
  if (h.tls != TlsMode::kNone && !tls_) {
    std::unique_ptr<TlsContext> t;
    *failed = Step::kTlsSetup;
    if (!(s = TlsContext::Create(cfg_, &t)).ok()) return s;
    tls_ = std::move(t);
  }
  if (h.tls == TlsMode::kSmtps) {
    std::string info;
    *failed = Step::kTls;
    s = conn_->StartTls(tls_.get(), h.host, StageTimeoutMs(cfg_, Stage::kGreeting), &info);
    if (!s.ok()) return s;
    observer_->TlsUp(info, true);
  }
  s = StartSession(h, failed);
  if (!s.ok()) Disconnect();
  return s;
}

Status SmarthostClient::StartSession(const Smarthost& h, Step* failed) {
  sasl_.reset();
  if (!cfg_.auth_user.empty()) {
    // The secret is loaded per connection: tokens from a command expire.
    std::string secret;
    std::function<bool(std::string*)> renew;
    Status s = LoadLogin(h, &secret, &renew);
    Connection* c = conn_.get();
    if (s.ok())
      sasl_ = NewSaslFactory(cfg_.auth_user, secret, cfg_.auth_mechanisms, h.host,
                             [c](std::string* n, std::string* d) { return c->ChannelBinding(n, d); },
                             std::move(renew));
    std::fill(secret.begin(), secret.end(), '\0');
    *failed = Step::kSecret;
    if (!s.ok()) return s;
  }
  *failed = Step::kSession;
  SessionParams p;
  p.helo_name = helo_name_;
  p.require_tls = h.tls != TlsMode::kNone;
  p.tls_active = h.tls == TlsMode::kSmtps;
  p.sasl = sasl_.get();
  std::string plain_why;
  p.auth_without_tls = AuthWithoutTlsAllowed(cfg_.auth_without_tls, h, conn_->loopback(), &plain_why);
  if (sasl_ && !plain_why.empty()) return Status::TempFail(plain_why);
  session_ = std::make_unique<SmtpSession>(p);
  if (!Drive()) return Status::TempFail(session_->session_error());
  return Status::Ok();
}

Status SmarthostClient::LoadLogin(const Smarthost& h, std::string* secret,
                                  std::function<bool(std::string*)>* renew) {
  if (!cfg_.oauth()) return LoadSecret(cfg_, secret);
  if (!oauth_ || oauth_key_ != HostKey(h)) {
    oauth_key_ = HostKey(h);
    Observer* o = observer_;
    oauth_ = std::make_unique<OAuthTokenSource>(cfg_, oauth_key_, [o](const std::string& line) { o->Note(line); });
  }
  OAuthTokenSource* src = oauth_.get();
  Observer* o = observer_;
  // After a refused token: one fresh token for one more AUTH (issue 17).
  *renew = [src, o](std::string* token) {
    Status s = src->Renew(token);
    if (!s.ok()) o->Note("oauth: " + s.message());
    return s.ok();
  };
  return src->Get(secret);
}

bool SmarthostClient::Drive(const BodyWriter& body) {
  for (;;) {
    Flush();
    switch (session_->want()) {
      case SmtpSession::Want::kMessage:
        // Bytes already read beyond the last reply due are a reply to no
        // command: fed to the session, which counts replies against
        // commands and ends the session (SmtpSession::OnReply).
        if (parser_.buffered() == 0) return true;
        [[fallthrough]];
      case SmtpSession::Want::kReply: ReadReply(); break;
      case SmtpSession::Want::kTlsHandshake: StartTls(); break;
      case SmtpSession::Want::kBody: SendBody(body); break;
      case SmtpSession::Want::kClosed: return false;
    }
  }
}

void SmarthostClient::Flush() {
  std::string out = session_->TakeOutput();
  if (out.empty()) return;
  observer_->Sent(out, session_->stage());
  Status s = conn_->Write(out, StageTimeoutMs(cfg_, Stage::kMail));
  if (!s.ok()) session_->OnConnectionLost(s.message());
}

void SmarthostClient::ReadReply() {
  Reply r;
  std::string err;
  ReplyParser::Result res;
  while ((res = parser_.Next(&r, &err)) == ReplyParser::Result::kNeedMore) {
    std::string data;
    // Shutting down breaks off any wait but the one for the reply to a
    // message already sent: that reply decides whether it is done.
    Status s = aborted_ && !in_final_ ? Status::TempFail("shutting down")
                                      : conn_->Read(&data, StageTimeoutMs(cfg_, session_->stage()));
    if (!s.ok()) {
      err = s.message();
      break;
    }
    parser_.Feed(data);
  }
  if (res == ReplyParser::Result::kReply) {
    observer_->Received(r, session_->stage());
    session_->OnReply(r);
  } else {
    session_->OnConnectionLost(res == ReplyParser::Result::kError ? "protocol error: " + err : err);
  }
}

void SmarthostClient::StartTls() {
  // CVE-2011-0411: plaintext sent after the 220 would be taken as if it
  // had come over TLS. Refuse the connection.
  if (parser_.buffered() > 0) {
    session_->OnConnectionLost("server sent data after its STARTTLS reply (possible command injection)");
    return;
  }
  std::string info;
  Status s = conn_->StartTls(tls_.get(), host_, StageTimeoutMs(cfg_, Stage::kStartTls), &info);
  if (!s.ok()) {
    session_->OnConnectionLost(s.message());
    return;
  }
  observer_->TlsUp(info, false);
  session_->OnTlsUp();
}

void SmarthostClient::SendBody(const BodyWriter& body) {
  Status s = body ? body(conn_.get()) : Status::Software("no message content to send");
  // Until the dot, a server cannot take the message: a stop may break the
  // connection mid-content (Abort) at no risk. From the dot on, it may be
  // the server's, so a stop waits for the reply. Content not in wire form
  // (a forged entry: an inner "." line would end the DATA phase and
  // smuggle commands) must never get its dot: the connection is broken.
  if (s.kind() == Status::Kind::kDataErr) {
    SetConnection(nullptr);
    session_->OnConnectionLost("queue file content is not in wire form");
  } else if (!s.ok()) {
    session_->OnConnectionLost(s.message());
  } else if (!EnterFinal()) {
    session_->OnConnectionLost("shutting down");  // no dot sent
  } else {
    session_->OnBodySent();
  }
}

Status SmarthostClient::Command(const std::string& line, Reply* reply) {
  int timeout = StageTimeoutMs(cfg_, Stage::kMail);
  Status s = conn_->Write(line + "\r\n", timeout);
  if (!s.ok()) return s;
  std::string err;
  ReplyParser::Result res;
  while ((res = parser_.Next(reply, &err)) == ReplyParser::Result::kNeedMore) {
    std::string data;
    if (!(s = conn_->Read(&data, timeout)).ok()) return s;
    parser_.Feed(data);
  }
  if (res == ReplyParser::Result::kError) return Status::TempFail("protocol error: " + err);
  return Status::Ok();
}

void SmarthostClient::Close() {
  if (session_ && conn_ && session_->want() == SmtpSession::Want::kMessage) {
    session_->Quit();
    Drive();
  }
  Disconnect();
}

void SmarthostClient::Disconnect() {
  session_.reset();
  SetConnection(nullptr);
}

bool SmarthostClient::ready() const {
  return session_ && session_->want() == SmtpSession::Want::kMessage && parser_.buffered() == 0;
}

bool SmarthostClient::readable() const { return conn_ && conn_->Readable(); }

void SmarthostClient::Abort() {
  aborted_ = true;
  std::lock_guard<std::mutex> lock(conn_mu_);
  // A message whose final dot is sent or on its way may already be the
  // smarthost's: breaking the connection now would send it again after a
  // restart. The worker waits for that reply (timeout_data_done) and
  // breaks the connection itself (LeaveFinal). Content without its dot
  // is nobody's yet, so that transfer is broken at once.
  if (conn_ && !in_final_) conn_->Abort();
}

bool SmarthostClient::EnterFinal() {
  std::lock_guard<std::mutex> lock(conn_mu_);
  if (aborted_) return false;
  in_final_ = true;
  return true;
}

void SmarthostClient::LeaveFinal() {
  std::lock_guard<std::mutex> lock(conn_mu_);
  in_final_ = false;
  if (conn_ && aborted_) conn_->Abort();
}

void SmarthostClient::SetConnection(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(conn_mu_);
  conn_ = std::move(c);
  if (conn_ && aborted_) conn_->Abort();
}

}  // namespace relay
