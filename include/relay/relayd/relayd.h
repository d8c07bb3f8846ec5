// relayd, the queue runner's daemon. See man/relayd.8.
//
// relayd itself is small: it links only the C++ runtime, watches queue/
// with inotify, keeps the next retry time, and starts relay-deliver (the
// half with TLS, SASL and DNS, and the secret) when something is due.
// relay-deliver delivers everything due over its connections, reports the
// next due time on its standard output, and exits. Idle, relayd costs a
// few MB and no CPU: no polling, one poll() with the next deadline.
#ifndef RELAY_RELAYD_RELAYD_H_
#define RELAY_RELAYD_RELAYD_H_

namespace relay {

int RunRelayd(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_RELAYD_RELAYD_H_
