#include "relay/inject/submit.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "relay/queue/queue_id.h"

namespace relay {

SubmitBackend::SubmitBackend(Env* env, SpoolPaths paths, InjectParams base, mode_t file_mode,
                             std::function<void(const std::string&, const Envelope&)> on_commit)
    : env_(env), paths_(std::move(paths)), base_(std::move(base)), mode_(file_mode),
      on_commit_(std::move(on_commit)) {}

Options SubmissionOptions(const Options& argv, const MailTransaction& t) {
  Options o;
  o.sender = t.sender.empty() ? "<>" : t.sender;
  o.recipients = t.recipients;
  o.after_dashdash.assign(t.recipients.size(), true);  // no argv here: no option confusion
  o.ignore_dots = true;  // the SMTP layer found the end and unstuffed
  o.dsn_notify = argv.dsn_notify;  // for recipients whose RCPT gave none
  o.dsn_ret = t.ret;
  o.envid = t.envid;
  o.body_type = t.body;
  o.queue_only = argv.queue_only;
  return o;
}

Status SubmitBackend::Begin(const MailTransaction& t) {
  Abort();
  InjectParams p = base_;
  // t.helo is "" unless it was a domain or address literal: no forged trace.
  if (!p.received_from.empty())
    p.received_from = (t.helo.empty() ? "unknown" : t.helo) + " (" + p.received_from + ")";
  p.received_with = std::string("ESMTP") + (t.tls ? "S" : "") + (t.auth_user.empty() ? "" : "A");
  p.received_auth = p.name_auth_user ? t.auth_user : "";
  p.orcpts = t.orcpts;
  p.notifies = t.notifies;
  p.opts = SubmissionOptions(base_.opts, t);
  p.now_micros = env_->NowMicros();
  id_ = NewQueueId(p.now_micros);
  p.queue_id = id_;
  p.msgid_nonce = MakeQueueId(0, QueueIdSalt()).substr(13);
  if (new_sink_) writer_ = new_sink_();
  else writer_ = std::make_unique<QueueWriter>(env_, paths_);
  injector_ = std::make_unique<Injector>(p, writer_.get());
  Status s = injector_->Start();
  bool exists = false;
  if (s.ok()) s = writer_->Begin(id_, mode_, &exists);
  if (!s.ok()) Abort();
  return s;
}

Status SubmitBackend::Data(std::string_view piece) {
  if (!injector_) return Status::Software("no message in progress");
  if (!injector_->Feed(piece) && !injector_->status().ok()) return injector_->status();
  return Status::Ok();
}

Status SubmitBackend::End(std::string* queue_id) {
  if (!injector_) return Status::Software("no message in progress");
  Status s = injector_->Finish();
  if (s.ok()) s = writer_->Commit();
  if (!s.ok()) {
    Abort();
    return s;
  }
  *queue_id = id_;
  if (on_commit_) on_commit_(id_, injector_->envelope());
  injector_.reset();
  writer_.reset();
  return Status::Ok();
}

void SubmitBackend::Abort() {
  injector_.reset();
  if (writer_) writer_->Abort();
  writer_.reset();
}

namespace {

bool WriteAll(int fd, const std::string& out, int timeout_ms) {
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = write(fd, out.data() + off, out.size() - off);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return false;
      continue;
    }
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void ServeSmtp(int in_fd, int out_fd, SmtpServer* server, int timeout_ms, bool* timed_out) {
  *timed_out = false;
  server->set_flush([out_fd, timeout_ms](const std::string& out) { return WriteAll(out_fd, out, timeout_ms); });
  if (!WriteAll(out_fd, server->Greeting(), timeout_ms)) return server->Disconnected();
  char buf[65536];
  while (!server->closed()) {
    if (timeout_ms >= 0) {
      struct pollfd p = {in_fd, POLLIN, 0};
      int r = poll(&p, 1, timeout_ms);
      if (r == 0) {
        *timed_out = true;
        WriteAll(out_fd, "421 4.4.2 timeout; closing\r\n", timeout_ms);
        return server->Disconnected();
      }
    }
    ssize_t n = read(in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return server->Disconnected();
    if (!WriteAll(out_fd, server->Feed(std::string_view(buf, static_cast<size_t>(n))), timeout_ms))
      return server->Disconnected();
  }
}

}  // namespace relay
