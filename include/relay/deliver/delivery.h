// Delivery of queued messages by one worker: loading an entry, driving an
// SmtpSession over a Connection, and recording the outcome durably
// (state file, bounces, removal). Used by QueueRunner's worker threads.
#ifndef RELAY_DELIVER_DELIVERY_H_
#define RELAY_DELIVER_DELIVERY_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/base/config.h"
#include "relay/queue/delivery_state.h"
#include "relay/base/env.h"
#include "relay/base/log.h"
#include "relay/queue/queue_file.h"
#include "relay/smtp/smtp_reply.h"
#include "relay/smtp/smtp_session.h"
#include "relay/queue/spool.h"

namespace relay {

class Connection;
class TlsContext;
class HostHealth;
struct DeliveryStats;

// One queue entry opened for delivery.
struct LoadedMessage {
  ~LoadedMessage();
  std::string id;
  int fd = -1;
  Envelope env;
  uint64_t content_offset = 0;
  Trailer trailer;
  DeliveryState state;
  bool can_downgrade = false;  // 8-bit and convertible (downgrade.h)
};

// The size in bytes of m's content after the 7-bit conversion
// (downgrade.h), read from its queue file. A TempFail when it cannot be read.
Status MeasureDowngraded(const LoadedMessage& m, uint64_t* size);

// Opens queue/ID and its state. A DataErr status means the entry is corrupt.
Status LoadMessage(const SpoolPaths& paths, const std::string& id, LoadedMessage* m);

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

// Which smarthosts failed recently, shared by the workers: a host that
// failed is skipped for kHostPenaltySeconds so that the next messages go
// straight to one that works; it is tried again after that (or at once if
// every host is marked down).
class HostHealth {
 public:
  static constexpr int64_t kHostPenaltySeconds = 60;
  void MarkDown(const std::string& host);
  void MarkUp(const std::string& host);
  bool IsDown(const std::string& host) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> down_until_;  // micros
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

// A worker's SMTP connection, reused across messages.
class Deliverer {
 public:
  Deliverer(DeliveryContext ctx, std::shared_ptr<TlsContext> tls);
  ~Deliverer();

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
  bool in_final() const { return in_final_; }
  int messages_sent() const { return messages_on_conn_; }

 private:
  Status EnsureSession(std::string* error);
  bool Drive(LoadedMessage* m);
  Status QueueBounce(LoadedMessage* m, const std::vector<size_t>& failed_idx,
                     std::string* bounce_id);
  void SetConnection(std::unique_ptr<Connection> c);
  // Enters the final window (the dot and its reply) unless already
  // aborted (then false: the dot must not be sent); LeaveFinal ends it,
  // and breaks the connection if an Abort came meanwhile.
  bool EnterFinal();
  void LeaveFinal();
  int TimeoutMs(Stage stage) const;
  AttemptResult NotWireForm(const std::string& why);
  // Sends the content converted to quoted-printable (downgrade.h).
  Status WriteDowngraded(LoadedMessage* m, int block_ms);

  DeliveryContext ctx_;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<SaslClientFactory> sasl_;  // outlives session_
  std::unique_ptr<SmtpSession> session_;
  ReplyParser parser_;
  std::string peer_;  // host[addr]:port
  std::string session_host_;  // the smarthost's name, for TLS checks
  int messages_on_conn_ = 0;
  std::string not_wire_form_;  // set by Drive when the content check failed
  std::atomic<bool> aborted_{false};
  std::atomic<bool> in_final_{false};  // set and cleared under conn_mu_
  std::mutex conn_mu_;  // conn_ is replaced by the worker, aborted by the main thread
};

}  // namespace relay

#endif  // RELAY_DELIVER_DELIVERY_H_
