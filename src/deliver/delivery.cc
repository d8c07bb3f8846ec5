#include "relay/deliver/delivery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "relay/deliver/bounce.h"
#include "relay/deliver/connection.h"
#include "relay/message/downgrade.h"
#include "relay/base/credentials.h"
#include "relay/deliver/sasl_cyrus.h"
#include "relay/queue/queue_id.h"
#include "relay/base/strings.h"
#include "relay/message/wire_form.h"

namespace relay {
namespace {

int64_t NowMicros() { return Env::Default()->NowMicros(); }

long LocalOffset(int64_t micros) {
  time_t t = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

double Jitter() {
  thread_local std::mt19937 rng(static_cast<unsigned>(QueueIdSalt()));
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string Delay(const LoadedMessage& m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(NowMicros() - m.env.arrival_micros) / 1e6);
  return buf;
}

const char* StatusWord(RcptState s) {
  switch (s) {
    case RcptState::kDone: return "sent";
    case RcptState::kBounced: return "bounced";
    default: return "deferred";
  }
}

}  // namespace

LoadedMessage::~LoadedMessage() {
  if (fd >= 0) close(fd);
}

Status LoadMessage(const SpoolPaths& paths, const std::string& id, LoadedMessage* m) {
  m->id = id;
  std::string path = paths.queue_file(id);
  m->fd = OpenQueueFile(path);
  if (m->fd < 0) {
    if (errno == ELOOP) return Status::DataErr("queue entry is a symbolic link");
    return Status::FromErrno(errno, "open " + path);
  }
  struct stat st, dir;
  if (fstat(m->fd, &st) != 0) return Status::FromErrno(errno, "stat " + path);
  if (stat(paths.queue().c_str(), &dir) != 0) return Status::FromErrno(errno, "stat " + paths.queue());
  Status s = CheckQueueFileStat(st);
  if (!s.ok()) return s;
  size_t head_size = 0;
  bool complete = false;
  s = ReadQueueHead(m->fd, static_cast<uint64_t>(st.st_size), &m->env, &head_size, &m->trailer, &complete);
  if (!s.ok()) return s;
  if (!complete) return Status::DataErr("queue file has no end record matching its size");
  m->env.uid = SubmitterUid(st, dir.st_uid, m->env.uid);
  m->content_offset = head_size;
  if (m->env.id != id) return Status::DataErr("queue file id does not match its name");
  if (m->trailer.eight_bit) {
    // Only the header block decides whether a 7-bit downgrade is possible.
    std::string hdr(std::min<uint64_t>(m->trailer.content_size, (1u << 20) + 65536), '\0');
    ssize_t got = pread(m->fd, hdr.data(), hdr.size(), static_cast<off_t>(head_size));
    if (got > 0) {
      hdr.resize(static_cast<size_t>(got));
      size_t end = hdr.find("\r\n\r\n");
      if (end != std::string::npos) hdr.resize(end + 4);
      m->can_downgrade = CanDowngrade(hdr);
    }
  }

  std::string text;
  bool missing = false;
  s = Env::Default()->ReadFile(paths.state_file(id), &text, &missing);
  if (missing) {
    m->state = DeliveryState();
    m->state.rcpts.assign(m->env.recipients.size(), RcptStatus());
    return Status::Ok();
  }
  if (!s.ok()) return s;
  if (!ParseState(text, m->env.recipients.size(), &m->state).ok()) {
    // A damaged state file loses only progress: start again from the queue
    // file (possible duplicates, no loss).
    m->state = DeliveryState();
    m->state.rcpts.assign(m->env.recipients.size(), RcptStatus());
  }
  return Status::Ok();
}

void HostHealth::MarkDown(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  down_until_[host] = NowMicros() + kHostPenaltySeconds * 1000000;
}

void HostHealth::MarkUp(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  down_until_.erase(host);
}

bool HostHealth::IsDown(const std::string& host) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = down_until_.find(host);
  return it != down_until_.end() && it->second > NowMicros();
}

Deliverer::Deliverer(DeliveryContext ctx, std::shared_ptr<TlsContext> tls)
    : ctx_(std::move(ctx)), tls_(std::move(tls)) {}

Deliverer::~Deliverer() = default;

int Deliverer::TimeoutMs(Stage stage) const {
  const Config& c = *ctx_.cfg;
  int64_t s = c.timeout_command;
  switch (stage) {
    case Stage::kGreeting: s = c.timeout_greeting; break;
    case Stage::kData: s = c.timeout_data_init; break;
    case Stage::kDot: s = c.timeout_data_done; break;
    default: break;
  }
  return static_cast<int>(std::min<int64_t>(s * 1000, 1 << 30));
}

// Runs the session until it is ready for a message or closed. Returns true
// when it is ready.
bool Deliverer::Drive(LoadedMessage* m) {
  for (;;) {
    std::string out = session_->TakeOutput();
    if (!out.empty()) {
      if (ctx_.log->verbose()) {
        // Nothing of a login goes to the log: not the response, not even
        // the initial response on the AUTH line.
        if (session_->stage() == Stage::kAuth) {
          ctx_.log->Transcript(peer_ + " > (authentication data hidden)");
        } else {
          for (std::string_view l : Split(out, '\n'))
            if (!l.empty()) ctx_.log->Transcript(peer_ + " > " + Printable(Trim(l)));
        }
      }
      Status s = conn_->Write(out, TimeoutMs(Stage::kMail));
      if (!s.ok()) session_->OnConnectionLost(s.message());
    }
    switch (session_->want()) {
      case SmtpSession::Want::kMessage:
        // Bytes already read beyond the last reply due are a reply to no
        // command: fed to the session, which counts replies against
        // commands and ends the session (SmtpSession::OnReply).
        if (parser_.buffered() == 0) return true;
        [[fallthrough]];
      case SmtpSession::Want::kReply: {
        Reply r;
        std::string err;
        ReplyParser::Result res;
        while ((res = parser_.Next(&r, &err)) == ReplyParser::Result::kNeedMore) {
          std::string data;
          // Shutting down breaks off any wait but the one for the reply to
          // a message already sent: that reply decides whether it is done.
          Status s = aborted_ && !in_final_ ? Status::TempFail("shutting down")
                                            : conn_->Read(&data, TimeoutMs(session_->stage()));
          if (!s.ok()) {
            err = s.message();
            break;
          }
          parser_.Feed(data);
        }
        if (res == ReplyParser::Result::kReply) {
          ctx_.log->Transcript(peer_ + " < " + r.Text());
          session_->OnReply(r);
        } else {
          session_->OnConnectionLost(res == ReplyParser::Result::kError ? "protocol error: " + err : err);
        }
        break;
      }
      case SmtpSession::Want::kTlsHandshake: {
        // CVE-2011-0411: plaintext sent after the 220 would be taken as if
        // it had come over TLS. Refuse the connection.
        if (parser_.buffered() > 0) {
          session_->OnConnectionLost("server sent data after its STARTTLS reply (possible command injection)");
          break;
        }
        std::string info;
        Status s = conn_->StartTls(tls_.get(), session_host_, TimeoutMs(Stage::kStartTls), &info);
        if (!s.ok()) {
          session_->OnConnectionLost(s.message());
        } else {
          ctx_.log->Info("TLS connection to " + peer_ + ": " + info);
          session_->OnTlsUp();
        }
        break;
      }
      case SmtpSession::Want::kBody: {
        int block_ms = static_cast<int>(ctx_.cfg->timeout_data_block * 1000);
        WireFormCheck check;
        Status s = session_->downgrade() ? WriteDowngraded(m, block_ms)
                                         : conn_->WriteFile(m->fd, static_cast<off_t>(m->content_offset),
                                                            m->trailer.content_size, block_ms, &check);
        // Until the dot, a server cannot take the message: a stop may
        // break the connection mid-content (Abort) at no risk. From the
        // dot on, it may be the server's, so a stop waits for the reply.
        // Content not in wire form (a forged entry: an inner "." line
        // would end the DATA phase and smuggle commands) must never get
        // its dot: the connection is broken, the entry goes to corrupt/.
        if (s.kind() == Status::Kind::kDataErr) {
          not_wire_form_ = s.message();
          SetConnection(nullptr);
          session_->OnConnectionLost("queue file content is not in wire form");
        } else if (!s.ok()) session_->OnConnectionLost(s.message());
        else if (!EnterFinal()) session_->OnConnectionLost("shutting down");  // no dot sent
        else session_->OnBodySent();
        break;
      }
      case SmtpSession::Want::kClosed: return false;
    }
  }
}

namespace {

// Streams m's content through a Downgrader, handing each converted piece
// to sink; memory stays bounded whatever the message's size.
Status ForEachDowngradedPiece(const LoadedMessage& m, const std::function<Status(const std::string&)>& sink) {
  Downgrader d;
  WireFormCheck check;  // the converter's input is checked as it is read
  std::string in, out;
  uint64_t left = m.trailer.content_size;
  off_t off = static_cast<off_t>(m.content_offset);
  while (left > 0) {
    in.resize(std::min<uint64_t>(left, 65536));
    ssize_t n = pread(m.fd, in.data(), in.size(), off);
    if (n <= 0) return Status::TempFail("cannot read the queue file");
    in.resize(static_cast<size_t>(n));
    if (!check.Feed(in)) return Status::DataErr(check.error());
    out.clear();
    d.Feed(in, &out);
    Status s = sink(out);
    if (!s.ok()) return s;
    off += n;
    left -= static_cast<uint64_t>(n);
  }
  if (!check.Finish()) return Status::DataErr(check.error());
  out.clear();
  d.Finish(&out);
  return out.empty() ? Status::Ok() : sink(out);
}

}  // namespace

Status Deliverer::WriteDowngraded(LoadedMessage* m, int block_ms) {
  return ForEachDowngradedPiece(*m, [&](const std::string& piece) {
    return piece.empty() ? Status::Ok() : conn_->Write(piece, block_ms);
  });
}

Status MeasureDowngraded(const LoadedMessage& m, uint64_t* size) {
  *size = 0;
  return ForEachDowngradedPiece(m, [size](const std::string& piece) {
    *size += piece.size();
    return Status::Ok();
  });
}

Status Deliverer::EnsureSession(std::string* error) {
  // Bytes the server sent between messages would be taken as the replies
  // to the next one: such a connection is not reused.
  if (session_ && session_->want() == SmtpSession::Want::kMessage && parser_.buffered() == 0) {
    if (!conn_->Readable()) return Status::Ok();
    ctx_.log->Warn("the smarthost " + peer_ + " sent data with no command outstanding; not reusing the connection");
  }
  SetConnection(nullptr);
  session_.reset();
  if (ctx_.cfg->smarthosts.empty()) {
    *error = "no smarthost is configured (set smarthost in relay.conf)";
    return Status::TempFail(*error);
  }
  std::string errors;
  // Hosts that failed recently go last, so the next messages go straight
  // to one that works; they are still tried if nothing else answers.
  std::vector<const Smarthost*> order;
  for (const Smarthost& h : ctx_.cfg->smarthosts)
    if (!ctx_.hosts->IsDown(h.host + ":" + std::to_string(h.effective_port()))) order.push_back(&h);
  for (const Smarthost& h : ctx_.cfg->smarthosts)
    if (ctx_.hosts->IsDown(h.host + ":" + std::to_string(h.effective_port()))) order.push_back(&h);
  for (const Smarthost* hp : order) {
    if (aborted_) break;
    const Smarthost& h = *hp;
    std::string key = h.host + ":" + std::to_string(h.effective_port());
    parser_.Clear();
    messages_on_conn_ = 0;
    session_host_ = h.host;
    std::unique_ptr<Connection> c;
    Status s = Connection::Open(h.host, h.effective_port(),
                                static_cast<int>(ctx_.cfg->timeout_connect * 1000), &c, &peer_);
    SetConnection(std::move(c));
    if (s.ok() && h.tls == TlsMode::kSmtps) {
      std::string info;
      s = conn_->StartTls(tls_.get(), h.host, TimeoutMs(Stage::kGreeting), &info);
      if (s.ok()) ctx_.log->Info("TLS connection to " + peer_ + ": " + info);
    }
    sasl_.reset();
    if (s.ok() && !ctx_.cfg->auth_user.empty()) {
      // The secret is loaded per connection: tokens from a command expire.
      std::string secret;
      s = LoadSecret(*ctx_.cfg, &secret);
      Connection* c = conn_.get();
      if (s.ok())
        sasl_ = NewSaslFactory(ctx_.cfg->auth_user, secret, ctx_.cfg->auth_mechanisms, h.host,
                               [c](std::string* n, std::string* d) { return c->ChannelBinding(n, d); });
      else s = Status::TempFail("cannot load the smarthost secret: " + s.message());
      std::fill(secret.begin(), secret.end(), '\0');
    }
    std::string plain_why;
    bool plain_auth = s.ok() && AuthWithoutTlsAllowed(ctx_.cfg->auth_without_tls, h, conn_->loopback(), &plain_why);
    if (s.ok() && sasl_ && !plain_why.empty()) s = Status::TempFail(plain_why);
    if (s.ok()) {
      SessionParams p;
      p.helo_name = ctx_.cfg->helo_name.empty() ? ctx_.hostname : ctx_.cfg->helo_name;
      p.require_tls = h.tls != TlsMode::kNone;
      p.tls_active = h.tls == TlsMode::kSmtps;
      p.sasl = sasl_.get();
      p.auth_without_tls = plain_auth;
      session_ = std::make_unique<SmtpSession>(p);
      if (Drive(nullptr)) {
        ctx_.hosts->MarkUp(key);
        return Status::Ok();
      }
      s = Status::TempFail(session_->session_error());
      // Do not leave the server waiting for our QUIT reply.
    }
    std::string why = s.message();
    ctx_.log->Warn("cannot use smarthost " + key + ": " + why);
    ctx_.hosts->MarkDown(key);
    errors += (errors.empty() ? "" : "; ") + why;
    SetConnection(nullptr);
    session_.reset();
  }
  *error = errors;
  return Status::TempFail(errors);
}

AttemptResult Deliverer::Deliver(LoadedMessage* m, bool forced, std::string* site_error) {
  int64_t first_try = m->env.arrival_micros + ctx_.cfg->retry_min * 1000000;
  if (m->env.queue_only && m->state.attempts == 0 && !forced && NowMicros() < first_try) {
    AttemptResult wait;
    wait.next = first_try;  // -odq: queued, not delivered, until a queue run
    return wait;
  }
  std::vector<size_t> idx;
  for (size_t i = 0; i < m->state.rcpts.size(); ++i)
    if (m->state.rcpts[i].kind == RcptStatus::Kind::kPending) idx.push_back(i);
  if (idx.empty()) return Record(m, idx, {}, false);
  ctx_.log->Info(m->id + ": from=<" + Printable(m->env.sender) + ">, size=" +
                 std::to_string(m->trailer.content_size) + ", nrcpt=" + std::to_string(idx.size()) +
                 (m->env.uid >= 0 ? ", uid=" + std::to_string(m->env.uid) : "") + " (queue active)");
  if (aborted_) {
    AttemptResult later;  // shutting down: not an attempt, nothing recorded
    later.next = NowMicros();
    return later;
  }
  std::string err;
  if (!EnsureSession(&err).ok()) {
    *site_error = err;
    return Defer(m, "4.4.1", err);
  }
  MessageJob job;
  job.sender = m->env.sender;
  for (size_t i : idx) {
    job.recipients.push_back(m->env.recipients[i].address);
    job.orcpts.push_back(m->env.recipients[i].original);
    job.notifies.push_back(m->env.recipients[i].notify);
  }
  job.size = m->trailer.content_size;
  job.eight_bit = m->trailer.eight_bit;
  job.can_downgrade = m->can_downgrade;
  job.declared_8bitmime = m->env.body_type == "8BITMIME";
  if (job.eight_bit && job.can_downgrade && !session_->capabilities().eightbitmime) {
    // SIZE= must declare what will be sent: the converted message, a
    // little larger than the one in the queue.
    Status s = MeasureDowngraded(*m, &job.downgraded_size);
    if (s.kind() == Status::Kind::kDataErr) return NotWireForm(s.message());
    if (!s.ok()) return Defer(m, "4.3.0", s.message());
  }
  job.dsn_ret = m->env.dsn_ret;
  job.envid = m->env.envid;
  session_->SendMessage(job);
  not_wire_form_.clear();
  bool alive = Drive(m);
  LeaveFinal();
  if (!not_wire_form_.empty()) {
    session_.reset();  // its connection is already broken: no dot went out
    return NotWireForm(not_wire_form_);
  }
  std::vector<RcptOutcome> outcomes;
  if (session_->HasOutcome()) outcomes = session_->TakeOutcome();
  outcomes.resize(idx.size(), RcptOutcome{RcptState::kDeferred, "4.4.0", "no outcome from session"});
  bool dup = session_->possible_duplicate();
  ++messages_on_conn_;
  if (!alive) {
    SetConnection(nullptr);
    session_.reset();
  } else if (messages_on_conn_ >= ctx_.cfg->max_messages_per_connection) {
    Close();
  }
  return Record(m, idx, std::move(outcomes), dup);
}

AttemptResult Deliverer::NotWireForm(const std::string& why) {
  AttemptResult res;
  res.corrupt = why;
  return res;
}

AttemptResult Deliverer::Defer(LoadedMessage* m, const std::string& dsn, const std::string& reason) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < m->state.rcpts.size(); ++i)
    if (m->state.rcpts[i].kind == RcptStatus::Kind::kPending) idx.push_back(i);
  std::vector<RcptOutcome> outcomes(idx.size(), RcptOutcome{RcptState::kDeferred, dsn, reason});
  return Record(m, idx, std::move(outcomes), false);
}

namespace {

// Whether the sender wants to hear that delivery to r failed: yes unless
// the recipient's NOTIFY is given and lacks FAILURE.
bool WantsFailureNotice(const Recipient& r) {
  if (r.notify.empty()) return true;
  for (std::string_view item : Split(r.notify, ','))
    if (EqualsIgnoreCase(Trim(item), "FAILURE")) return true;
  return false;
}

}  // namespace

AttemptResult Deliverer::Record(LoadedMessage* m, const std::vector<size_t>& idx,
                                std::vector<RcptOutcome> outcomes, bool possible_duplicate) {
  const Config& c = *ctx_.cfg;
  int64_t now = NowMicros();
  bool expired = now - m->env.arrival_micros >= c.queue_lifetime * 1000000;
  std::string relay = peer_.empty() ? "none" : peer_;
  std::vector<size_t> bounce;  // positions in idx/outcomes
  for (size_t k = 0; k < idx.size(); ++k) {
    RcptOutcome& o = outcomes[k];
    const Recipient& r = m->env.recipients[idx[k]];
    if (o.state == RcptState::kDeferred && expired) {
      o.state = RcptState::kBounced;
      o.reason = "message expired after " + LifetimeText(c.queue_lifetime) +
                 " in the queue; last error: " + o.reason;
      if (o.dsn.empty() || o.dsn[0] != '4') o.dsn = "4.4.7";
    }
    std::string line = m->id + ": to=<" + Printable(r.address) + ">, ";
    if (!r.original.empty()) line += "orig_to=<" + Printable(r.original) + ">, ";
    ctx_.log->Info(line + "relay=" + relay + ", delay=" + Delay(*m) + ", dsn=" + Printable(o.dsn) +
                   ", status=" + StatusWord(o.state) + " (" + Printable(o.reason) + ")");
    RcptStatus& st = m->state.rcpts[idx[k]];
    if (ctx_.stats) {
      if (o.state == RcptState::kDone) ctx_.stats->Sent(now);
      else ctx_.stats->Failed(now, m->id + ": " + r.address + ": " + o.reason);
    }
    if (o.state == RcptState::kDone) {
      st = RcptStatus{RcptStatus::Kind::kDone, "", ""};
    } else if (o.state == RcptState::kBounced && !WantsFailureNotice(r)) {
      // RFC 3461 4.1: NOTIFY=NEVER, or a list without FAILURE: the sender
      // asked for no failure notice, so none is queued (as Postfix does).
      st = RcptStatus{RcptStatus::Kind::kBounced, "", ""};
      ctx_.log->Info(m->id + ": to=<" + Printable(r.address) + ">: no failure notice sent to <" +
                     Printable(m->env.sender) + "> (NOTIFY=" + Printable(r.notify) + ")");
    } else if (o.state == RcptState::kBounced) {
      st.dsn = o.dsn;
      st.reason = o.reason;
      bounce.push_back(k);
    } else {
      st.dsn = o.dsn;
      st.reason = o.reason;
    }
  }
  if (possible_duplicate)
    ctx_.log->Warn(m->id + ": connection lost after the final dot: the smarthost may have the "
                   "message already; it will be sent again (possible duplicate)");
  if (!bounce.empty()) {
    std::vector<size_t> failed_idx;
    for (size_t k : bounce) failed_idx.push_back(idx[k]);
    std::string bounce_id;
    Status s = QueueBounce(m, failed_idx, &bounce_id);
    for (size_t k : bounce) {
      RcptStatus& st = m->state.rcpts[idx[k]];
      if (s.ok()) {
        st = RcptStatus{RcptStatus::Kind::kBounced, "", ""};
      } else {
        // No bounce, no forgetting: the recipient stays queued.
        st.dsn = "4.3.0";
        st.reason = "permanent failure (" + outcomes[k].reason + "), but the bounce could not be queued: " + s.message();
      }
    }
    if (!s.ok()) ctx_.log->Error(m->id + ": cannot queue a bounce: " + s.message() + "; the message stays queued");
  }
  AttemptResult res;
  if (m->state.pending() == 0) {
    std::string qf = ctx_.paths->queue_file(m->id);
    Status rm = ctx_.env->RemoveFile(qf);
    if (!rm.ok() && rm.message().find("No such file") == std::string::npos) {
      ctx_.log->Error(m->id + ": cannot remove " + qf + ": " + rm.message());
    } else {
      ctx_.env->RemoveFile(ctx_.paths->state_file(m->id));
      ctx_.dir_dirty->store(true);
      ctx_.log->Info(m->id + ": removed");
      res.removed = true;
      return res;
    }
  }
  m->state.attempts++;
  int64_t delay = RetryDelaySeconds(m->state.attempts, c.retry_min, c.retry_max, Jitter());
  m->state.next_attempt_micros = now + delay * 1000000;
  res.next = m->state.next_attempt_micros;
  Status s = ctx_.env->WriteFileAtomic(ctx_.paths->state_file(m->id), EncodeState(m->state), 0600);
  if (!s.ok()) {
    // The runner keeps the progress in memory, gives the entry no new work
    // and writes the state again until it can (QueueRunner::RetryUnsaved):
    // a new attempt, or a run after a restart, would repeat recipients the
    // smarthost already accepted.
    ctx_.log->Error(m->id + ": cannot save delivery state: " + s.message() +
                    "; no further attempt of it until its progress is written");
    res.state_unsaved = true;
  }
  return res;
}

Status Deliverer::QueueBounce(LoadedMessage* m, const std::vector<size_t>& failed_idx,
                              std::string* bounce_id) {
  const Envelope& o = m->env;
  Envelope b;
  if (!o.sender.empty()) {
    b.recipients.push_back({o.sender, ""});
  } else if (!o.double_bounce) {
    // A bounce is never bounced: it goes to the postmaster.
    LocalPolicy lp{ctx_.domain, {"localhost", ctx_.hostname}};
    for (const std::string& a : ctx_.aliases->Expand("postmaster", lp)) b.recipients.push_back({a, ""});
    b.double_bounce = true;
  } else {
    // A notice to the postmaster failed too: keep it for the admin.
    std::string to = ctx_.paths->failed_file(m->id);
    Status s = ctx_.env->RenameFile(ctx_.paths->queue_file(m->id), to);
    if (!s.ok()) return s;
    ctx_.env->RenameFile(ctx_.paths->state_file(m->id), ctx_.paths->failed_state_file(m->id));
    ctx_.log->Error(m->id + ": undeliverable notice to the postmaster kept in " + to);
    *bounce_id = "(kept)";
    return ctx_.env->SyncDir(ctx_.paths->failed());
  }
  int64_t now = NowMicros();
  b.id = NewQueueId(now);
  b.arrival_micros = now;
  b.uid = getuid();
  b.sender = "";
  const std::string& domain = ctx_.domain;

  BounceParams p;
  p.reporting_host = ctx_.hostname;
  p.domain = domain;
  p.remote_mta = session_host_;
  p.bounce_id = b.id;
  p.to = b.recipients.front().address;
  p.now_micros = now;
  p.gmtoff = LocalOffset(now);
  p.original = &o;
  for (size_t k = 0; k < failed_idx.size(); ++k) {
    const Recipient& r = o.recipients[failed_idx[k]];
    // outcomes are indexed like the attempt's idx; find the matching one.
    const RcptStatus& st = m->state.rcpts[failed_idx[k]];
    p.failed.push_back({r.address, r.original, st.dsn, st.reason, false});
  }
  // An 8-bit original goes back as its header only: the failure may be
  // exactly that the path does not carry 8-bit data.
  p.headers_only = o.dsn_ret == "HDRS" || m->trailer.eight_bit ||
                   m->trailer.content_size > static_cast<uint64_t>(ctx_.cfg->bounce_size_limit);

  std::string head;
  Status s = EncodeHead(b, &head);
  if (!s.ok()) return s;
  QueueWriter w(ctx_.env, *ctx_.paths);
  bool exists = false;
  bool eight_bit = false;
  s = w.Begin(b.id, 0600, &exists);
  if (s.ok()) s = w.Append(head);
  std::string bounce_head = BounceHead(p);
  for (char c : bounce_head) eight_bit |= static_cast<unsigned char>(c) >= 0x80;  // quoted replies
  if (s.ok()) s = w.Append(bounce_head);
  // The original, or its header: already in wire form, copied as it is.
  uint64_t len = m->trailer.content_size;
  off_t off = static_cast<off_t>(m->content_offset);
  std::string buf;
  bool header_done = false;
  while (s.ok() && len > 0 && !header_done) {
    buf.resize(std::min<uint64_t>(len, 65536));
    ssize_t n = pread(m->fd, buf.data(), buf.size(), off);
    if (n <= 0) {
      s = Status::FromErrno(n < 0 ? errno : EIO, "read queue file");
      break;
    }
    buf.resize(static_cast<size_t>(n));
    if (p.headers_only) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        buf.resize(end + 2);
        header_done = true;
      }
    }
    for (char c : buf) eight_bit |= static_cast<unsigned char>(c) >= 0x80;
    s = w.Append(buf);
    off += n;
    len -= static_cast<uint64_t>(n);
  }
  if (s.ok()) s = w.Append(BounceTail(p));
  if (s.ok()) s = w.Append(EncodeTrailer({w.Size() - head.size(), eight_bit}));
  if (s.ok()) s = w.Commit();
  if (!s.ok()) return s;
  *bounce_id = b.id;
  ctx_.log->Info(m->id + ": sender non-delivery notification: " + b.id);
  return Status::Ok();
}

void Deliverer::Close() {
  if (session_ && conn_ && session_->want() == SmtpSession::Want::kMessage) {
    session_->Quit();
    Drive(nullptr);
  }
  session_.reset();
  SetConnection(nullptr);
}

void Deliverer::Abort() {
  aborted_ = true;
  std::lock_guard<std::mutex> lock(conn_mu_);
  // A message whose final dot is sent or on its way may already be the
  // smarthost's: breaking the connection now would send it again after a
  // restart. The worker waits for that reply (timeout_data_done) and
  // breaks the connection itself (LeaveFinal). Content without its dot
  // is nobody's yet, so that transfer is broken at once.
  if (conn_ && !in_final_) conn_->Abort();
}

bool Deliverer::EnterFinal() {
  std::lock_guard<std::mutex> lock(conn_mu_);
  if (aborted_) return false;
  in_final_ = true;
  return true;
}

void Deliverer::LeaveFinal() {
  std::lock_guard<std::mutex> lock(conn_mu_);
  in_final_ = false;
  if (conn_ && aborted_) conn_->Abort();
}

void Deliverer::SetConnection(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(conn_mu_);
  conn_ = std::move(c);
  if (conn_ && aborted_) conn_->Abort();
}

}  // namespace relay
