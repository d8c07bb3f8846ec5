// SubmitBackend: stores messages that arrive over SMTP (sendmail -bs, the
// loopback listener) exactly as sendmail stores piped ones: the same
// Injector (header completion, aliases, address checks, wire form) and the
// same durable commit, before the 250 after the final dot.
#ifndef RELAY_INJECT_SUBMIT_H_
#define RELAY_INJECT_SUBMIT_H_

#include <functional>
#include <memory>
#include <string>

#include "relay/inject/inject.h"
#include "relay/smtp/smtp_server.h"
#include "relay/queue/spool.h"

namespace relay {

// The options a message that came over SMTP is stored with. The envelope
// and the DSN parameters come from the dialogue; from the command line of
// sendmail -bs (argv; default Options for the listener) only two things
// carry over, where the dialogue leaves them open:
//  - -N: the NOTIFY of each recipient whose RCPT gave none (each RCPT's
//    own NOTIFY is kept for its recipient: InjectParams::notifies);
//  - -odq: the queue-only mark.
// -f, -F, -R, -V, -B and -t have no effect: the sender is MAIL FROM's
// (<> stays the null sender), as Postfix's stand-alone smtpd does.
Options SubmissionOptions(const Options& argv, const MailTransaction& t);

class SubmitBackend : public ServerBackend {
 public:
  // base: everything but the per-message fields (opts, queue id, time).
  // received_from: see InjectParams (empty for sendmail -bs).
  SubmitBackend(Env* env, SpoolPaths paths, InjectParams base, mode_t file_mode,
                std::function<void(const std::string& id, const Envelope& env)> on_commit = nullptr);
  // Where each message goes: a QueueWriter on paths unless set (the
  // setgid sendmail -bs sends it to its privileged part, inject/drop.h).
  void set_sink_factory(std::function<std::unique_ptr<MessageSink>()> f) { new_sink_ = std::move(f); }
  Status Begin(const MailTransaction& t) override;
  Status Data(std::string_view piece) override;
  Status End(std::string* queue_id) override;
  void Abort() override;

  // The temporary file of the message being received; "" between
  // messages. For a signal handler that removes it (sendmail -bs).
  std::string temp_path() const { return writer_ ? writer_->temp_path() : std::string(); }

 private:
  Env* env_;
  SpoolPaths paths_;
  InjectParams base_;
  mode_t mode_;
  std::function<void(const std::string&, const Envelope&)> on_commit_;
  std::function<std::unique_ptr<MessageSink>()> new_sink_;
  std::unique_ptr<MessageSink> writer_;
  std::unique_ptr<Injector> injector_;
  std::string id_;
};

// Runs an SMTP session: the greeting, then client bytes from in_fd to the
// server and its replies to out_fd, until QUIT, EOF or an error. With
// timeout_ms >= 0 a client silent that long gets a 421 and the session
// ends (*timed_out is set). Used by sendmail -bs (fds 0 and 1) and by the
// listener's children (one socket).
void ServeSmtp(int in_fd, int out_fd, SmtpServer* server, int timeout_ms, bool* timed_out);

}  // namespace relay

#endif  // RELAY_INJECT_SUBMIT_H_
