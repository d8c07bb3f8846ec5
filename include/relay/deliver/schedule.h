// The queue runner's schedule, with no I/O and no clock of its own: which
// entries are due, in what order they are handed out, when the next one
// is due, and the smarthost pause with its backoff. The caller passes the
// time. QueueRunner (runner.h) keeps the files, the threads and the clock,
// and asks this what to do.
//
// Rules:
// - An entry is due when it is not being worked on, its time has come,
//   and its delivery progress is not only in memory (a stalled entry,
//   whose state file could not be written: another attempt would repeat
//   the recipients it records).
// - Due entries are handed out in queue ID order, which is arrival order
//   (a queue ID begins with its arrival time).
// - Cost: finding what is due looks only at the entries due now (and the
//   first one that is not), whatever the size of the queue.
// - While the smarthost is paused, nothing is handed out; the next due
//   time is the later of an entry's own and the pause's end.
// - A flush makes every entry due now and forced (attempted even if
//   queued with -odq), and lifts the pause.
// - A run that finds the smarthost unreachable pauses deliveries for
//   RetryDelaySeconds(failures in a row, min(retry_min, 60 s), retry_min,
//   0.5): 60 s, then doubling up to retry_min, so that a smarthost down
//   for a minute is not hammered and one down for a day is not waited on
//   longer than any single message would be. Work handed out but not yet
//   started goes back, due when the pause ends. A run that reaches it
//   ends the count.
#ifndef RELAY_DELIVER_SCHEDULE_H_
#define RELAY_DELIVER_SCHEDULE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace relay {

class Schedule {
 public:
  struct Work {
    std::string id;
    bool forced = false;
  };
  // Whether an entry's progress is only in memory (see above).
  using Stalled = std::function<bool(const std::string& id)>;

  // Knows id from now on, due at next (micros; 0: now). An entry already
  // known keeps its schedule; false then.
  bool Add(const std::string& id, int64_t next);
  bool Knows(const std::string& id) const { return entries_.count(id) > 0; }
  bool Busy(const std::string& id) const;
  void Remove(const std::string& id);
  size_t size() const { return entries_.size(); }
  bool AnyBusy() const { return busy_ > 0; }

  void FlushAll();
  bool Paused(int64_t now) const { return now < site_down_until_; }
  bool AnyDue(int64_t now, const Stalled& stalled) const;
  // Marks every due entry busy and returns them, in order; none while
  // paused. A forced entry is forced once.
  std::vector<Work> TakeDue(int64_t now, const Stalled& stalled);
  // A worker is done with id (not removed): due again at next.
  void Done(const std::string& id, int64_t next);
  // id's next due time, whether busy or not (its progress was written).
  void SetNext(const std::string& id, int64_t next);
  // Work handed out but never started goes back, due no earlier than the
  // pause's end.
  void Requeue(const std::string& id);

  // The smarthost failed again: the pause begins now; its length in
  // seconds is returned (for the log).
  int64_t SiteFailed(int64_t now, int64_t retry_min);
  void SiteReached() { site_failures_ = 0; }
  // Pauses for a fixed time (a TLS file that cannot be loaded), for
  // reason (one line, for the log and status); 0 lifts the pause.
  void PauseUntil(int64_t until, std::string reason = "") {
    site_down_until_ = until;
    pause_reason_ = std::move(reason);
  }
  // Pauses until `until` (a provider limit or quota reply) unless a pause
  // that ends later is on already (which keeps its reason).
  void ExtendPause(int64_t until, std::string reason) {
    if (until > site_down_until_) PauseUntil(until, std::move(reason));
  }
  const std::string& pause_reason() const { return pause_reason_; }
  // The pause carried over from an earlier run.
  void SetSitePause(int failures, int64_t until) {
    site_failures_ = failures;
    site_down_until_ = until;
  }
  int64_t site_down_until() const { return site_down_until_; }
  int site_failures() const { return site_failures_; }

  // Microseconds from now until the next entry not being worked on is due
  // (0: due already); -1 when there is none.
  int64_t MicrosUntilDue(int64_t now) const;

  // Entries the last AnyDue, TakeDue or MicrosUntilDue looked at: the
  // work a dispatch costs, for tests (no clock needed to see it grow).
  size_t visited() const { return visited_; }

 private:
  struct Entry {
    int64_t next = 0;
    bool busy = false;
    bool forced = false;
  };
  using Entries = std::map<std::string, Entry>;
  // The entries not being worked on, by (next, id): what is due is at its
  // front, so a dispatch costs what it hands out, not the queue's size
  // (with every worker busy on a 1M queue, a scan per dispatch made the
  // drain quadratic). The id points at the key of entries_, whose nodes
  // do not move.
  struct ByDue {
    bool operator()(const std::pair<int64_t, const std::string*>& a,
                    const std::pair<int64_t, const std::string*>& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };
  void Park(Entries::iterator it) { idle_.emplace(it->second.next, &it->first); }
  void Unpark(Entries::iterator it) { idle_.erase({it->second.next, &it->first}); }
  // A busy entry back to idle at next.
  void Release(Entries::iterator it, int64_t next);

  Entries entries_;  // by queue ID: arrival order
  std::set<std::pair<int64_t, const std::string*>, ByDue> idle_;
  size_t busy_ = 0;
  int64_t site_down_until_ = 0;
  std::string pause_reason_;
  int site_failures_ = 0;
  mutable size_t visited_ = 0;
};

}  // namespace relay

#endif  // RELAY_DELIVER_SCHEDULE_H_
