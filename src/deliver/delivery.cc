#include "relay/deliver/delivery.h"

#include "relay/deliver/oauth_refresh.h"

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
#include "relay/deliver/provider_limits.h"
#include "relay/deliver/sender_rewrite.h"
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

void Deliverer::Received(const Reply& r, Stage stage) {
  if (stage == Stage::kAuth) auth_refused_ = !r.positive();  // 334 and 235 are positive
  ctx_.log->Transcript(client_.peer() + " < " + r.Text());
}
namespace {

// Streams m's content through a Downgrader, handing each converted piece
// to sink; memory stays bounded whatever the message's size. head, when
// not empty, goes in place of the first head_old_size bytes.
Status ForEachDowngradedPiece(const LoadedMessage& m, const std::string& head, uint64_t head_old_size,
                              const std::function<Status(const std::string&)>& sink) {
  Downgrader d;
  WireFormCheck check;  // the converter's input is checked as it is read
  std::string in, out;
  uint64_t left = m.trailer.content_size - head_old_size;
  off_t off = static_cast<off_t>(m.content_offset + head_old_size);
  if (!head.empty()) {
    if (!check.Feed(head)) return Status::DataErr(check.error());
    d.Feed(head, &out);
    Status s = sink(out);
    if (!s.ok()) return s;
  }
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
  return ForEachDowngradedPiece(m, head_new_, head_old_size_, [&](const std::string& piece) {
    return piece.empty() ? Status::Ok() : conn->Write(piece, block_ms);
  });
}

Status MeasureDowngraded(const LoadedMessage& m, uint64_t* size, const std::string& head, uint64_t head_old_size) {
  *size = 0;
  return ForEachDowngradedPiece(m, head, head_old_size, [size](const std::string& piece) {
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
  host_key_.clear();
  for (const Smarthost* h : FailoverOrder(ctx_.cfg->smarthosts, *ctx_.hosts)) {
    if (client_.aborted()) break;
    // A smarthost over its provider limit is passed over while another
    // may be used (ClearLimits waits when none may).
    if (ctx_.limits && !ctx_.limits->Allowed(HostKey(*h), NowMicros())) continue;
    messages_on_conn_ = 0;
    SmarthostClient::Step step;
    auth_refused_ = false;
    Status s = client_.Open(*h, &step);
    if (client_.oauth() && ctx_.stats && (s.ok() || step != SmarthostClient::Step::kConnect))
      ctx_.stats->TokenChecked(HostKey(*h), client_.oauth()->facts().problem);
    std::string key = HostKey(*h);
    if (host_key_.empty() || s.ok()) host_key_ = key;
    if (s.ok()) {
      ctx_.hosts->MarkUp(key);
      if (ctx_.stats) ctx_.stats->HostReached(key, NowMicros());
      return Status::Ok();
    }
    std::string why = step == SmarthostClient::Step::kSecret ? "cannot load the smarthost secret: " + s.message()
                                                               : s.message();
    ctx_.log->Warn("cannot use smarthost " + key + ": " + why);
    int64_t until = 0;
    std::string reason;
    // A slow-down reply at the greeting, EHLO or AUTH pauses that host
    // (ClearLimits then waits if no other one may be used).
    if (ctx_.limits && ctx_.limits->OnReply(key, why, NowMicros(), &until, &reason))
      ctx_.log->Warn("smarthost " + key + " paused for " + std::to_string((until - NowMicros()) / 1000000) +
                     "s: " + reason);
    ctx_.hosts->MarkDown(key);
    if (ctx_.stats) ctx_.stats->HostFailed(key, NowMicros(), why, auth_refused_);
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
  AttemptResult held;
  if (!ClearLimits(m, site_error, &held)) return held;
  MessageJob job = JobFor(*m, idx);
  if (ctx_.sender) {
    std::string as = RewrittenSender(*ctx_.sender, m->env.sender);
    if (!as.empty()) {
      // Only the copy sent changes: bounces relay makes still go to the
      // queued sender.
      job.sender = as;
      ctx_.log->Info(m->id + ": sender <" + Printable(m->env.sender) + "> sent as <" + Printable(as) +
                     "> (sender_rewrite)");
    }
  }
  PrepareHeader(*m);
  if (!head_new_.empty()) job.size = job.size - head_old_size_ + head_new_.size();
  if (job.eight_bit && job.can_downgrade && !client_.session()->capabilities().eightbitmime) {
    // SIZE= must declare what will be sent: the converted message, a
    // little larger than the one in the queue.
    Status s = MeasureDowngraded(*m, &job.downgraded_size, head_new_, head_old_size_);
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
    Status s;
    if (session->downgrade()) {
      s = WriteDowngraded(*m, conn, block_ms);
    } else {
      // The rewritten header block first (checked like the rest), then
      // the queued content after the block it replaces.
      if (!head_new_.empty()) s = check.Feed(head_new_) ? conn->Write(head_new_, block_ms)
                                                        : Status::DataErr(check.error());
      if (s.ok())
        s = conn->WriteFile(m->fd, static_cast<off_t>(m->content_offset + head_old_size_),
                            m->trailer.content_size - head_old_size_, block_ms, &check);
    }
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
  std::string quota;
  int64_t hold = HoldForQuota(&outcomes, &quota);
  if (!alive) {
    client_.Disconnect();
  } else if (hold > 0 || messages_on_conn_ >= ctx_.cfg->max_messages_per_connection) {
    Close();
  }
  AttemptResult res = Record(m, idx, std::move(outcomes), dup, hold);
  if (hold > 0) {
    res.wait_until = hold;
    res.wait_reason = quota;
  }
  return res;
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

// Whether the sender wants to hear that delivery to r is delayed: yes
// unless the recipient's NOTIFY is given and lacks DELAY.
bool WantsDelayNotice(const Recipient& r) {
  if (r.notify.empty()) return true;
  for (std::string_view item : Split(r.notify, ','))
    if (EqualsIgnoreCase(Trim(item), "DELAY")) return true;
  return false;
}

}  // namespace

DelayNotice DelayNoticeFor(const Envelope& env, const DeliveryState& state, int64_t now_micros,
                           int64_t delay_warning_time) {
  DelayNotice n;
  if (delay_warning_time <= 0 || state.delay_warned || state.pending() == 0) return n;
  if (now_micros - env.arrival_micros < delay_warning_time * 1000000) return n;
  n.due = true;
  if (env.sender.empty()) return n;
  for (size_t i = 0; i < state.rcpts.size() && i < env.recipients.size(); ++i)
    if (state.rcpts[i].kind == RcptStatus::Kind::kPending && WantsDelayNotice(env.recipients[i]))
      n.rcpts.push_back(i);
  return n;
}

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
                                std::vector<RcptOutcome> outcomes, bool possible_duplicate, int64_t hold_until) {
  int64_t now = NowMicros();
  std::vector<Verdict> verdicts = ApplyOutcomes(m->env, idx, now, ctx_.cfg->queue_lifetime, &outcomes, &m->state);
  LogOutcomes(*m, idx, outcomes, verdicts, now);
  CountAttempt(verdicts, now);
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
  MaybeWarnDelay(m, now);
  if (m->state.pending() == 0 && RemoveEntry(*m)) {
    AttemptResult res;
    res.removed = true;
    return res;
  }
  return SaveProgress(m, now, hold_until);
}

void Deliverer::CountAttempt(const std::vector<Verdict>& verdicts, int64_t now) {
  // No smarthost tried (relayctl bounce): nothing to count against one.
  if (!ctx_.stats || host_key_.empty() || verdicts.empty()) return;
  bool sent = false, deferred = false, bounced = false;
  for (Verdict v : verdicts) {
    sent |= v == Verdict::kDone;
    deferred |= v == Verdict::kDeferred;
    bounced |= v == Verdict::kBounce || v == Verdict::kBouncedSilently;
  }
  ctx_.stats->Attempted(host_key_, sent, deferred, bounced, now);
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

AttemptResult Deliverer::SaveProgress(LoadedMessage* m, int64_t now, int64_t hold_until) {
  const Config& c = *ctx_.cfg;
  AttemptResult res;
  if (hold_until > 0) {
    // The provider's quota, not this message: no retry count.
    m->state.next_attempt_micros = hold_until;
  } else {
    m->state.attempts++;
    int64_t delay = RetryDelaySeconds(m->state.attempts, c.retry_min, c.retry_max, Jitter());
    m->state.next_attempt_micros = now + delay * 1000000;
  }
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

void Deliverer::MaybeWarnDelay(LoadedMessage* m, int64_t now) {
  DelayNotice n = DelayNoticeFor(m->env, m->state, now, ctx_.cfg->delay_warning_time);
  if (!n.due) return;
  if (!n.rcpts.empty()) {
    std::string id;
    Status s = QueueBounce(m, n.rcpts, &id, true);
    if (!s.ok()) {
      // Tried again at the next attempt: the state still says not sent.
      ctx_.log->Error(m->id + ": cannot queue a delay notice: " + s.message());
      return;
    }
  }
  m->state.delay_warned = true;  // written with the rest of the state
}

Status Deliverer::QueueBounce(LoadedMessage* m, const std::vector<size_t>& failed_idx,
                              std::string* bounce_id, bool delayed) {
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
    if (ctx_.stats) ctx_.stats->MovedToFailed();
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
    std::string dsn = st.dsn.empty() && delayed ? "4.0.0" : st.dsn;
    std::string reason = st.reason.empty() && delayed ? "not delivered yet" : st.reason;
    p.failed.push_back({r.address, r.original, dsn, reason, delayed});
  }
  // A delay notice carries the header only, as Postfix's does: the
  // message is still queued and may yet arrive.
  p.headers_only = delayed || BounceHeadersOnly(orig, ctx_.cfg->bounce_size_limit);
  Status s = CommitRelayMessage(ctx_.env, *ctx_.paths, b,
                                [&](const ContentSink& sink) { return WriteBounce(p, orig, sink); });
  if (!s.ok()) return s;
  *bounce_id = b.id;
  if (ctx_.stats) {
    if (delayed) ctx_.stats->DelayNoticeQueued();
    else ctx_.stats->BounceQueued();
  }
  ctx_.log->Info(m->id + (delayed ? ": sender delay notification: " : ": sender non-delivery notification: ") + b.id);
  return Status::Ok();
}

AttemptResult Deliverer::Wait(const LoadedMessage& m, int64_t until, const std::string& why) {
  AttemptResult res;
  res.next = until;
  res.wait_until = until;
  res.wait_reason = why;
  ctx_.log->Info(m.id + ": waits " + std::to_string((until - NowMicros() + 999999) / 1000000) +
                 "s for the smarthost (" + Printable(why) + "); not an attempt");
  return res;
}

bool Deliverer::ClearLimits(LoadedMessage* m, std::string* site_error, AttemptResult* held) {
  ProviderLimits* limits = ctx_.limits;
  int64_t now = NowMicros();
  std::string why;
  if (limits && !client_.ready()) {
    // Every smarthost held: wait without connecting.
    int64_t until = limits->EarliestAllowed(ctx_.cfg->smarthosts, now, &why);
    if (until > now) {
      *held = Wait(*m, until, why);
      return false;
    }
  }
  std::string err;
  if (!EnsureSession(&err).ok()) {
    // Every smarthost held (a slow-down reply at the greeting, EHLO or
    // AUTH, or taken to its limit by another worker meanwhile): a wait,
    // not a failure.
    int64_t until = limits ? limits->EarliestAllowed(ctx_.cfg->smarthosts, now, &why) : now;
    if (until > now) {
      *held = Wait(*m, until, why);
      return false;
    }
    *site_error = err;
    *held = Defer(m, "4.4.1", err);
    return false;
  }
  // Counted when it goes, not when the connection began (a slow TLS
  // handshake would open the next window early).
  int64_t until = 0;
  if (limits && !limits->Acquire(host_key_, NowMicros(), &until, &why)) {
    Close();  // another worker took the last slot meanwhile
    *held = Wait(*m, until, why);
    return false;
  }
  return true;
}

int64_t Deliverer::HoldForQuota(std::vector<RcptOutcome>* outcomes, std::string* reason) {
  if (!ctx_.limits) return 0;
  int64_t hold = 0;
  for (RcptOutcome& o : *outcomes) {
    if (o.state != RcptState::kDeferred && o.state != RcptState::kBounced) continue;
    int64_t until = 0;
    std::string why;
    if (!ctx_.limits->OnReply(host_key_, o.reason, NowMicros(), &until, &why)) continue;
    // Never a bounce: the recipient waits for the smarthost's next window.
    o.state = RcptState::kDeferred;
    o.reason = why + " (smarthost paused; no bounce)";
    hold = std::max(hold, until);
    *reason = why;
  }
  return hold;
}

void Deliverer::PrepareHeader(const LoadedMessage& m) {
  head_new_.clear();
  head_old_size_ = 0;
  // A bounce (null sender) keeps its From; so does a message whose
  // header is beyond the first 64 KiB.
  if (!ctx_.sender || ctx_.sender->mode != SenderRewrite::kEnvelopeAndHeader || m.env.sender.empty()) return;
  std::string buf(std::min<uint64_t>(m.trailer.content_size, 65536), '\0');
  ssize_t n = pread(m.fd, buf.data(), buf.size(), static_cast<off_t>(m.content_offset));
  if (n != static_cast<ssize_t>(buf.size())) return;
  size_t head = HeaderBlockSize(buf);
  if (head == std::string::npos) {
    if (buf.size() != m.trailer.content_size) return;
    head = buf.size();  // all header, no body
  }
  buf.resize(head);
  std::string out;
  WireFormCheck check;
  if (!RewriteFromHeader(*ctx_.sender, buf, &out) || !check.Feed(out)) return;
  head_new_ = std::move(out);
  head_old_size_ = head;
  ctx_.log->Info(m.id + ": From header rewritten (sender_rewrite); the original is in X-Original-From");
}

}  // namespace relay
