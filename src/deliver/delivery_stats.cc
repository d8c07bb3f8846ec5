// DeliveryStats (delivery.h): what one delivery run's workers learned about
// each smarthost, gathered under its mutex and handed to state/.health at
// the end of the run (QueueRunner::WriteHealth).
#include "relay/deliver/delivery.h"

namespace relay {

void DeliveryStats::HostReached(const std::string& host, int64_t now) {
  std::lock_guard<std::mutex> l(mu);
  SmarthostHealth* h = FindHost(&run, host);
  h->last_reached = now;
  h->failures = 0;  // MergeRun: failures since it was last reached
  h->down_since = 0;
  h->auth_failing = false;
}

void DeliveryStats::HostFailed(const std::string& host, int64_t now, const std::string& why, bool auth_refused) {
  std::lock_guard<std::mutex> l(mu);
  SmarthostHealth* h = FindHost(&run, host);
  if (h->failures++ == 0) h->down_since = now;
  h->last_error_time = now;
  h->last_error = why;
  h->auth_failing = auth_refused;
}

void DeliveryStats::Attempted(const std::string& host, bool sent, bool deferred, bool bounced, int64_t now) {
  std::lock_guard<std::mutex> l(mu);
  SmarthostHealth* h = FindHost(&run, host);
  h->sent_total += sent;
  h->deferred_total += deferred;
  h->bounced_total += bounced;
  if (sent) h->last_success = now;
}

void DeliveryStats::BounceQueued() {
  std::lock_guard<std::mutex> l(mu);
  run.bounces_total++;
}

void DeliveryStats::DelayNoticeQueued() {
  std::lock_guard<std::mutex> l(mu);
  run.delay_notices_total++;
}

void DeliveryStats::MovedToCorrupt() {
  std::lock_guard<std::mutex> l(mu);
  run.corrupt_total++;
}

void DeliveryStats::MovedToFailed() {
  std::lock_guard<std::mutex> l(mu);
  run.failed_total++;
}

void DeliveryStats::Flushed() {
  std::lock_guard<std::mutex> l(mu);
  for (SmarthostHealth& h : run.hosts) {
    h.failures = 0;
    h.down_since = 0;
  }
}

void DeliveryStats::TokenChecked(const std::string& host, const std::string& problem) {
  std::lock_guard<std::mutex> l(mu);
  token_problems_[host] = problem;
}

std::map<std::string, std::string> DeliveryStats::TakeTokenProblems() {
  std::lock_guard<std::mutex> l(mu);
  return token_problems_;
}

Health DeliveryStats::TakeRun() {
  std::lock_guard<std::mutex> l(mu);
  return run;
}

void Deliverer::Close() { client_.Close(); }

void Deliverer::Abort() { client_.Abort(); }

}  // namespace relay
