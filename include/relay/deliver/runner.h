// QueueRunner: relayd's queue manager. It keeps the schedule (which entry
// is due when: the pure Schedule, schedule.h, decides), hands due entries to up to max_connections worker threads,
// and each worker delivers a stream of messages over one SMTP connection
// (one TLS handshake per connection, RSET-free reuse between messages).
//
// Ownership: only the thread that calls the public methods (relayd's main
// loop) touches the schedule; a worker owns the files of the one entry it
// is working on (queue/ID is immutable; state/ID is replaced atomically).
// Results come back through a queue and wake the main loop via an eventfd.
#ifndef RELAY_DELIVER_RUNNER_H_
#define RELAY_DELIVER_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/deliver/delivery.h"
#include "relay/deliver/provider_limits.h"
#include "relay/deliver/schedule.h"
#include "relay/deliver/sender_rewrite.h"
#include "relay/queue/delivery_state.h"
#include "relay/base/config.h"
#include "relay/base/log.h"
#include "relay/queue/spool.h"

namespace relay {

class Connection;
class TlsContext;

class QueueRunner {
 public:
  QueueRunner(const Config& cfg, Logger* log, std::string hostname, std::string domain);
  ~QueueRunner();

  // An fd that becomes readable when a worker has reported back; the main
  // loop polls it and then calls Collect().
  int wake_fd() const { return wake_fd_; }

  // Reads queue/ (and state/ for retry times). Entries already known keep
  // their schedule. Also removes stale temporary files. Returns true when
  // a flush was requested (the .flush trigger); it has been applied.
  bool Scan();
  // A new entry appeared (inotify).
  void Add(const std::string& id);
  // Makes every entry due now (sendmail -q, relayctl flush).
  void FlushAll();
  // Hands due entries to workers, starting workers as needed.
  void Dispatch();
  // Takes the workers' reports; joins finished workers.
  void Collect();
  // True when no entry is being worked on, none is waiting for a worker,
  // and no entry holds progress that could not be written (a run does not
  // end with such progress only in memory: see RetryUnsaved).
  bool Idle() const;
  // Entries whose delivery progress could not be written (a full disk,
  // EIO): they take no new work until it is. Tries to write it again, at
  // most once a second; called by Dispatch.
  void RetryUnsaved();
  size_t unsaved() const;
  // Microseconds until the next entry is due (-1: none scheduled).
  int64_t MicrosUntilDue() const;
  // Stops handing out work; after grace_ms aborts connections in flight.
  // Returns when every worker has ended.
  void Shutdown(int grace_ms);
  // Number of entries known.
  size_t size() const { return schedule_.size(); }
  // The smarthost pause, carried from one delivery run to the next by
  // relayd: until when deliveries wait, and how many failures in a row.
  int64_t site_down_until() const { return schedule_.site_down_until(); }
  int site_failures() const { return schedule_.site_failures(); }
  // Writes state/.status: the last delivery and the last error, merged
  // with what earlier runs wrote (relayctl status reads it); then
  // state/.health (health.h: this run's counts and smarthost trouble, the
  // pause; a flush in this run cleared the stored trouble first), and the
  // metrics to cfg.metrics_file when set (metrics.h). A write that fails
  // is logged; delivery is not affected.
  void WriteStatus();
  // Recipients the smarthost accepted in this run.
  uint64_t sent() {
    std::lock_guard<std::mutex> l(stats_.mu);
    return stats_.sent;
  }
  void SetSiteFailures(int n, int64_t down_until) { schedule_.SetSitePause(n, down_until); }
  // Issue 17: the sender rewrite and the provider limits for this run
  // (relay-deliver builds them from relay.conf and its files); the ledger
  // of earlier runs is read from state/.limits here.
  void SetProviderPolicy(SenderPolicy sender, std::vector<QuotaPattern> quota_patterns);
  // Writes state/.limits when the ledger changed (at most once a second
  // unless force).
  void SaveLimitsLedger(bool force);
  // Why deliveries are paused ("" : no reason recorded).
  const std::string& pause_reason() const { return schedule_.pause_reason(); }

 private:
  using Work = Schedule::Work;
  struct Report {
    std::string id;
    bool removed = false;
    int64_t next = 0;
    bool site_failed = false;
    std::string site_error;
    int64_t wait_until = 0;  // a provider limit or quota reply holds the smarthost
    std::string wait_reason;
  };
  struct Worker;
  // Under mu_: whether an entry's progress is only in memory (unsaved_).
  bool Stalled(const std::string& id) const { return unsaved_.count(id) > 0; }

  void WorkerMain(Worker* w);
  // Marks the smarthosts state/.health says kept failing as down for
  // their penalty (HostPenaltyUntil), so they are tried last.
  void LoadHostHealth();
  void WriteHealth();
  void WriteMetrics(Health health);
  // Moves a corrupt entry out of queue/ (to corrupt/, or failing that to
  // queue/ID.corrupt, a name no scan takes) and logs what was done.
  void MoveAside(const std::string& id, const std::string& why);
  void Post(Report r);
  bool PopWork(Worker* self, Work* w);
  void SyncQueueDirIfDirty();
  // Pauses deliveries while every smarthost is held by its provider limit
  // (true), logging a new pause once.
  bool HeldByLimits(int64_t now);

  Config cfg_;
  Logger* log_;
  std::string hostname_;
  std::string domain_;  // the mail domain (DeliveryContext::domain)
  SpoolPaths paths_;
  Aliases aliases_;
  HostHealth hosts_;
  DeliveryStats stats_;
  SenderPolicy sender_;
  std::unique_ptr<ProviderLimits> limits_;
  int64_t last_limits_save_ = 0;
  bool flushed_ = false;  // a flush was applied in this run
  std::string site_error_;  // why deliveries were last paused (one line)
  int wake_fd_ = -1;

  Schedule schedule_;  // main thread only
  int64_t last_dir_sync_ = 0;
  int64_t last_unsaved_try_ = 0;
  // Entries of tmp/ that are no regular file (a planted directory, say),
  // already logged: the sweep names each once and leaves it alone.
  std::set<std::string> tmp_oddities_;

  // Shared with workers, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Work> work_;
  std::map<std::string, DeliveryState> unsaved_;  // progress a full disk kept off the state file
  std::vector<Report> reports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::shared_ptr<TlsContext> tls_;
  bool stopping_ = false;
  std::atomic<bool> dir_dirty_{false};
};

}  // namespace relay

#endif  // RELAY_DELIVER_RUNNER_H_
