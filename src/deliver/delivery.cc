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

Deliverer::Deliverer(DeliveryContext ctx, std::shared_ptr<TlsContext> tls)
    : ctx_(std::move(ctx)),
      client_(*ctx_.cfg, ctx_.cfg->helo_name.empty() ? ctx_.hostname : ctx_.cfg->helo_name, std::move(tls),
              this) {}

Deliverer::~Deliverer() = default;

void Deliverer::Note(const std::string& line) { ctx_.log->Info(line); }

void Deliverer::TlsUp(const std::string& info, bool /*at_connect*/) {
  ctx_.log->Info("TLS connection to " + client_.peer() + ": " + info);
}

void Deliverer::Sent(std::string_view out, Stage stage) {
  if (!ctx_.log->verbose()) return;
  // Nothing of a login goes to the log: not the response, not even the
  // initial response on the AUTH line.
  if (stage == Stage::kAuth) {
    ctx_.log->Transcript(client_.peer() + " > (authentication data hidden)");
    return;
  }
  for (std::string_view l : Split(out, '\n'))
    if (!l.empty()) ctx_.log->Transcript(client_.peer() + " > " + Printable(Trim(l)));
}

void Deliverer::Received(const Reply& r, Stage /*stage*/) {
  ctx_.log->Transcript(client_.peer() + " < " + r.Text());
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

Status Deliverer::WriteDowngraded(const LoadedMessage& m, Connection* conn, int block_ms) {
  return ForEachDowngradedPiece(m, [&](const std::string& piece) {
    return piece.empty() ? Status::Ok() : conn->Write(piece, block_ms);
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
  if (client_.ready()) {
    if (!client_.readable()) return Status::Ok();
    ctx_.log->Warn("the smarthost " + client_.peer() +
                   " sent data with no command outstanding; not reusing the connection");
  }
  client_.Disconnect();
  if (ctx_.cfg->smarthosts.empty()) {
    *error = "no smarthost is configured (set smarthost in relay.conf)";
    return Status::TempFail(*error);
  }
  std::string errors;
  for (const Smarthost* h : FailoverOrder(ctx_.cfg->smarthosts, *ctx_.hosts)) {
    if (client_.aborted()) break;
    messages_on_conn_ = 0;
    SmarthostClient::Step step;
    Status s = client_.Open(*h, &step);
    if (s.ok()) {
      ctx_.hosts->MarkUp(HostKey(*h));
      return Status::Ok();
    }
    std::string why = step == SmarthostClient::Step::kSecret ? "cannot load the smarthost secret: " + s.message()
                                                               : s.message();
    ctx_.log->Warn("cannot use smarthost " + HostKey(*h) + ": " + why);
    ctx_.hosts->MarkDown(HostKey(*h));
    errors += (errors.empty() ? "" : "; ") + why;
  }
  *error = errors;
  return Status::TempFail(errors);
}

namespace {

// What the session is to send: m for the recipients idx.
MessageJob JobFor(const LoadedMessage& m, const std::vector<size_t>& idx) {
  MessageJob job;
  job.sender = m.env.sender;
  for (size_t i : idx) {
    job.recipients.push_back(m.env.recipients[i].address);
    job.orcpts.push_back(m.env.recipients[i].original);
    job.notifies.push_back(m.env.recipients[i].notify);
  }
  job.size = m.trailer.content_size;
  job.eight_bit = m.trailer.eight_bit;
  job.can_downgrade = m.can_downgrade;
  job.declared_8bitmime = m.env.body_type == "8BITMIME";
  job.dsn_ret = m.env.dsn_ret;
  job.envid = m.env.envid;
  return job;
}

}  // namespace

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
  if (client_.aborted()) {
    AttemptResult later;  // shutting down: not an attempt, nothing recorded
    later.next = NowMicros();
    return later;
  }
  std::string err;
  if (!EnsureSession(&err).ok()) {
    *site_error = err;
    return Defer(m, "4.4.1", err);
  }
  MessageJob job = JobFor(*m, idx);
  if (job.eight_bit && job.can_downgrade && !client_.session()->capabilities().eightbitmime) {
    // SIZE= must declare what will be sent: the converted message, a
    // little larger than the one in the queue.
    Status s = MeasureDowngraded(*m, &job.downgraded_size);
    if (s.kind() == Status::Kind::kDataErr) return NotWireForm(s.message());
    if (!s.ok()) return Defer(m, "4.3.0", s.message());
  }
  return Send(m, idx, job);
}

AttemptResult Deliverer::Send(LoadedMessage* m, const std::vector<size_t>& idx, const MessageJob& job) {
  SmtpSession* session = client_.session();
  session->SendMessage(job);
  not_wire_form_.clear();
  int block_ms = static_cast<int>(ctx_.cfg->timeout_data_block * 1000);
  bool alive = client_.Drive([&](Connection* conn) {
    WireFormCheck check;
    Status s = session->downgrade() ? WriteDowngraded(*m, conn, block_ms)
                                    : conn->WriteFile(m->fd, static_cast<off_t>(m->content_offset),
                                                      m->trailer.content_size, block_ms, &check);
    // Not in wire form: the client breaks the connection before the dot;
    // the entry goes to corrupt/.
    if (s.kind() == Status::Kind::kDataErr) not_wire_form_ = s.message();
    return s;
  });
  client_.LeaveFinal();
  if (!not_wire_form_.empty()) {
    client_.Disconnect();  // its connection is already broken: no dot went out
    return NotWireForm(not_wire_form_);
  }
  std::vector<RcptOutcome> outcomes;
  if (session->HasOutcome()) outcomes = session->TakeOutcome();
  outcomes.resize(idx.size(), RcptOutcome{RcptState::kDeferred, "4.4.0", "no outcome from session"});
  bool dup = session->possible_duplicate();
  ++messages_on_conn_;
  if (!alive) {
    client_.Disconnect();
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

std::vector<Verdict> ApplyOutcomes(const Envelope& env, const std::vector<size_t>& idx, int64_t now_micros,
                                   int64_t queue_lifetime, std::vector<RcptOutcome>* outcomes,
                                   DeliveryState* state) {
  bool expired = now_micros - env.arrival_micros >= queue_lifetime * 1000000;
  std::vector<Verdict> verdicts;
  for (size_t k = 0; k < idx.size(); ++k) {
    RcptOutcome& o = (*outcomes)[k];
    const Recipient& r = env.recipients[idx[k]];
    if (o.state == RcptState::kDeferred && expired) {
      o.state = RcptState::kBounced;
      o.reason = "message expired after " + LifetimeText(queue_lifetime) + " in the queue; last error: " + o.reason;
      if (o.dsn.empty() || o.dsn[0] != '4') o.dsn = "4.4.7";
    }
    RcptStatus& st = state->rcpts[idx[k]];
    if (o.state == RcptState::kDone) {
      st = RcptStatus{RcptStatus::Kind::kDone, "", ""};
      verdicts.push_back(Verdict::kDone);
    } else if (o.state == RcptState::kBounced && !WantsFailureNotice(r)) {
      st = RcptStatus{RcptStatus::Kind::kBounced, "", ""};
      verdicts.push_back(Verdict::kBouncedSilently);
    } else {
      st.dsn = o.dsn;
      st.reason = o.reason;
      verdicts.push_back(o.state == RcptState::kBounced ? Verdict::kBounce : Verdict::kDeferred);
    }
  }
  return verdicts;
}

void SettleBounces(const std::vector<size_t>& idx, const std::vector<Verdict>& verdicts,
                   const std::vector<RcptOutcome>& outcomes, const Status& queued, DeliveryState* state) {
  for (size_t k = 0; k < idx.size(); ++k) {
    if (verdicts[k] != Verdict::kBounce) continue;
    RcptStatus& st = state->rcpts[idx[k]];
    if (queued.ok()) {
      st = RcptStatus{RcptStatus::Kind::kBounced, "", ""};
    } else {
      st.dsn = "4.3.0";
      st.reason = "permanent failure (" + outcomes[k].reason + "), but the bounce could not be queued: " +
                  queued.message();
    }
  }
}

void Deliverer::LogOutcomes(const LoadedMessage& m, const std::vector<size_t>& idx,
                            const std::vector<RcptOutcome>& outcomes, const std::vector<Verdict>& verdicts,
                            int64_t now) {
  std::string relay = client_.peer().empty() ? "none" : client_.peer();
  for (size_t k = 0; k < idx.size(); ++k) {
    const RcptOutcome& o = outcomes[k];
    const Recipient& r = m.env.recipients[idx[k]];
    std::string line = m.id + ": to=<" + Printable(r.address) + ">, ";
    if (!r.original.empty()) line += "orig_to=<" + Printable(r.original) + ">, ";
    ctx_.log->Info(line + "relay=" + relay + ", delay=" + Delay(m) + ", dsn=" + Printable(o.dsn) +
                   ", status=" + StatusWord(o.state) + " (" + Printable(o.reason) + ")");
    if (ctx_.stats) {
      if (o.state == RcptState::kDone) ctx_.stats->Sent(now);
      else ctx_.stats->Failed(now, m.id + ": " + r.address + ": " + o.reason);
    }
    if (verdicts[k] == Verdict::kBouncedSilently)
      ctx_.log->Info(m.id + ": to=<" + Printable(r.address) + ">: no failure notice sent to <" +
                     Printable(m.env.sender) + "> (NOTIFY=" + Printable(r.notify) + ")");
  }
}

AttemptResult Deliverer::Record(LoadedMessage* m, const std::vector<size_t>& idx,
                                std::vector<RcptOutcome> outcomes, bool possible_duplicate) {
  int64_t now = NowMicros();
  std::vector<Verdict> verdicts = ApplyOutcomes(m->env, idx, now, ctx_.cfg->queue_lifetime, &outcomes, &m->state);
  LogOutcomes(*m, idx, outcomes, verdicts, now);
  if (possible_duplicate)
    ctx_.log->Warn(m->id + ": connection lost after the final dot: the smarthost may have the "
                   "message already; it will be sent again (possible duplicate)");
  std::vector<size_t> failed_idx;
  for (size_t k = 0; k < idx.size(); ++k)
    if (verdicts[k] == Verdict::kBounce) failed_idx.push_back(idx[k]);
  if (!failed_idx.empty()) {
    std::string bounce_id;
    Status s = QueueBounce(m, failed_idx, &bounce_id);
    SettleBounces(idx, verdicts, outcomes, s, &m->state);
    if (!s.ok()) ctx_.log->Error(m->id + ": cannot queue a bounce: " + s.message() + "; the message stays queued");
  }
  if (m->state.pending() == 0 && RemoveEntry(*m)) {
    AttemptResult res;
    res.removed = true;
    return res;
  }
  return SaveProgress(m, now);
}

bool Deliverer::RemoveEntry(const LoadedMessage& m) {
  std::string qf = ctx_.paths->queue_file(m.id);
  Status rm = ctx_.env->RemoveFile(qf);
  if (!rm.ok() && rm.message().find("No such file") == std::string::npos) {
    ctx_.log->Error(m.id + ": cannot remove " + qf + ": " + rm.message());
    return false;
  }
  ctx_.env->RemoveFile(ctx_.paths->state_file(m.id));
  ctx_.dir_dirty->store(true);
  ctx_.log->Info(m.id + ": removed");
  return true;
}

AttemptResult Deliverer::SaveProgress(LoadedMessage* m, int64_t now) {
  const Config& c = *ctx_.cfg;
  AttemptResult res;
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
  std::vector<std::string> postmaster;
  if (o.sender.empty() && !o.double_bounce) {
    LocalPolicy lp{ctx_.domain, {"localhost", ctx_.hostname}};
    postmaster = ctx_.aliases->Expand("postmaster", lp);
  }
  int64_t now = NowMicros();
  Envelope b;
  if (!BounceEnvelope(o, postmaster, NewQueueId(now), now, getuid(), &b)) {
    // A notice to the postmaster failed too: keep it for the admin.
    std::string kept;
    Status s = KeepInFailed(ctx_.env, *ctx_.paths, m->id, &kept);
    if (kept.empty()) return s;
    ctx_.log->Error(m->id + ": undeliverable notice to the postmaster kept in " + kept);
    *bounce_id = "(kept)";
    return s;
  }
  BounceOriginal orig{&o, m->fd, m->content_offset, m->trailer.content_size, m->trailer.eight_bit};
  BounceParams p;
  p.reporting_host = ctx_.hostname;
  p.domain = ctx_.domain;
  p.remote_mta = client_.host();
  p.bounce_id = b.id;
  p.to = b.recipients.front().address;
  p.now_micros = now;
  p.gmtoff = LocalOffset(now);
  p.original = &o;
  for (size_t i : failed_idx) {
    const Recipient& r = o.recipients[i];
    const RcptStatus& st = m->state.rcpts[i];
    p.failed.push_back({r.address, r.original, st.dsn, st.reason, false});
  }
  p.headers_only = BounceHeadersOnly(orig, ctx_.cfg->bounce_size_limit);
  Status s = CommitRelayMessage(ctx_.env, *ctx_.paths, b,
                                [&](const ContentSink& sink) { return WriteBounce(p, orig, sink); });
  if (!s.ok()) return s;
  *bounce_id = b.id;
  ctx_.log->Info(m->id + ": sender non-delivery notification: " + b.id);
  return Status::Ok();
}

void Deliverer::Close() { client_.Close(); }

void Deliverer::Abort() { client_.Abort(); }

}  // namespace relay
