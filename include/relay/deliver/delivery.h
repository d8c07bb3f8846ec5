// Delivery of queued messages by one worker: an entry loaded by
// LoadMessage (queue/operations.h), an SmtpSession driven over a
// Connection, and the outcome recorded durably (state file, bounces,
// removal). Used by QueueRunner's worker threads.
#ifndef RELAY_DELIVER_DELIVERY_H_
#define RELAY_DELIVER_DELIVERY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/base/config.h"
#include "relay/queue/delivery_state.h"
#include "relay/base/env.h"
#include "relay/base/log.h"
#include "relay/deliver/smarthost_client.h"
#include "relay/queue/operations.h"
#include "relay/queue/queue_file.h"
#include "relay/smtp/smtp_reply.h"
#include "relay/smtp/smtp_session.h"
#include "relay/queue/spool.h"

namespace relay {

class Connection;
class TlsContext;
struct DeliveryStats;

// The size in bytes of m's content after the 7-bit conversion
// (downgrade.h), read from its queue file. A TempFail when it cannot be read.
Status MeasureDowngraded(const LoadedMessage& m, uint64_t* size);

struct DeliveryContext {
  const Config* cfg;
  const SpoolPaths* paths;
  const Aliases* aliases;
  std::string hostname;
  Logger* log;
  std::atomic<bool>* dir_dirty;  // set after a removal; the runner fsyncs queue/
  HostHealth* hosts;
  DeliveryStats* stats = nullptr;
  Env* env = Env::Default();  // every spool write goes through it (tests inject faults)
  // The mail domain (MailDomain: relay.conf's domain, else the host's),
  // derived once by the program; cfg->domain is as configured.
  std::string domain = {};
};

// The last success and the last failure of a delivery run, for
// relayctl status (written to state/.status at the end of each run).
struct DeliveryStats {
  std::mutex mu;
  int64_t last_sent = 0;   // micros
  int64_t last_error_time = 0;
  std::string last_error;
  void Sent(int64_t now) {
    std::lock_guard<std::mutex> l(mu);
    last_sent = now;
  }
  void Failed(int64_t now, const std::string& why) {
    std::lock_guard<std::mutex> l(mu);
    last_error_time = now;
    last_error = why;
  }
};

// What the runner needs back after an attempt.
struct AttemptResult {
  bool removed = false;   // every recipient done or bounced: entry gone
  int64_t next = 0;       // otherwise: when to try again (micros)
  bool state_unsaved = false;  // the state file could not be written
  // Not "": the content is not in wire form (wire_form.h); nothing was
  // recorded and no final dot sent. The runner moves the entry to corrupt/.
  std::string corrupt;
};

// What Record decided for one attempted recipient.
enum class Verdict {
  kDone,             // the smarthost took it
  kDeferred,         // still pending, tried again later
  kBounce,           // failed: a failure notice is to be queued
  kBouncedSilently,  // failed, and its NOTIFY asks for no failure notice
};

// The decision of Record, with no I/O. For each attempted recipient
// (idx: indices into env.recipients, outcomes in the same order): a
// deferral of a message that has been queued queue_lifetime seconds or
// more at now_micros becomes a bounce (the reason says it expired; a
// 4.x.x code is kept, else 4.4.7). state->rcpts is updated: done;
// bounced when the recipient's NOTIFY is given without FAILURE (RFC 3461
// 4.1: no notice, as Postfix does); otherwise still pending with the dsn
// and reason, a bounce included until its notice is queued
// (SettleBounces). Returns one verdict per position in idx.
std::vector<Verdict> ApplyOutcomes(const Envelope& env, const std::vector<size_t>& idx, int64_t now_micros,
                                   int64_t queue_lifetime, std::vector<RcptOutcome>* outcomes,
                                   DeliveryState* state);

// After the failure notice for the kBounce positions was queued (queued
// is OK) or not: those recipients are bounced, or stay pending with 4.3.0
// and a reason that says why (no bounce, no forgetting).
void SettleBounces(const std::vector<size_t>& idx, const std::vector<Verdict>& verdicts,
                   const std::vector<RcptOutcome>& outcomes, const Status& queued, DeliveryState* state);

// A worker's SMTP connection, reused across messages.
class Deliverer : private SmarthostClient::Observer {
 public:
  Deliverer(DeliveryContext ctx, std::shared_ptr<TlsContext> tls);
  ~Deliverer() override;

  // Delivers the pending recipients of m. On a connection-level failure
  // *site_error is set (and the message deferred with it). A queue-only
  // (-odq) message waits retry_min for its first attempt unless forced.
  AttemptResult Deliver(LoadedMessage* m, bool forced, std::string* site_error);
  // Records a failure that happened without trying (site known down,
  // smarthost missing) as a deferral of every pending recipient.
  AttemptResult Defer(LoadedMessage* m, const std::string& dsn, const std::string& reason);
  // Records the outcome of an attempt durably: queues bounces first, then
  // the state file, or removes the entry when nothing is pending. idx:
  // the recipients attempted (indices into m->env.recipients), outcomes in
  // the same order. Public so that tests can drive it with failing files.
  AttemptResult Record(LoadedMessage* m, const std::vector<size_t>& idx,
                       std::vector<RcptOutcome> outcomes, bool possible_duplicate);
  // QUIT and close.
  void Close();
  // From another thread: break the connection so blocked I/O returns,
  // except during the wait for the reply to a final dot already sent,
  // which runs to its end first (see in_final()).
  void Abort();
  // True from the sending of a message's final dot until its reply (or
  // the connection's loss): the window in which breaking off could make
  // a duplicate.
  bool in_final() const { return client_.in_final(); }
  int messages_sent() const { return messages_on_conn_; }

 private:
  Status EnsureSession(std::string* error);
  // Sends m to the smarthost for the recipients idx, as job, and records
  // the outcome.
  AttemptResult Send(LoadedMessage* m, const std::vector<size_t>& idx, const MessageJob& job);
  Status QueueBounce(LoadedMessage* m, const std::vector<size_t>& failed_idx,
                     std::string* bounce_id);
  // Record's I/O: the log lines and stats of an attempt, the removal of a
  // finished entry (false if it could not be removed), the state file.
  void LogOutcomes(const LoadedMessage& m, const std::vector<size_t>& idx,
                   const std::vector<RcptOutcome>& outcomes, const std::vector<Verdict>& verdicts, int64_t now);
  bool RemoveEntry(const LoadedMessage& m);
  AttemptResult SaveProgress(LoadedMessage* m, int64_t now);
  AttemptResult NotWireForm(const std::string& why);
  // Sends the content converted to quoted-printable (downgrade.h).
  Status WriteDowngraded(const LoadedMessage& m, Connection* conn, int block_ms);

  // SmarthostClient::Observer: the transcript and TLS lines of the log.
  void TlsUp(const std::string& info, bool at_connect) override;
  void Sent(std::string_view out, Stage stage) override;
  void Received(const Reply& r, Stage stage) override;
  void Note(const std::string& line) override;

  DeliveryContext ctx_;
  SmarthostClient client_;
  int messages_on_conn_ = 0;
  std::string not_wire_form_;  // set by the body writer when the content check failed
};

}  // namespace relay

#endif  // RELAY_DELIVER_DELIVERY_H_
