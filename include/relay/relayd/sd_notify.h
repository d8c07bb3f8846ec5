// systemd's readiness and watchdog protocol, without libsystemd (relayd
// links only the C++ runtime): sd_notify(3) is one datagram per message
// on the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, with a
// leading '@', an abstract name. relayd sends "READY=1" once it watches
// the queue, "WATCHDOG=1" every half of $WATCHDOG_USEC from its main loop
// (so a hung loop stops petting and systemd restarts it; WatchdogSec= in
// the unit), and "STOPPING=1" when it stops. Where $NOTIFY_SOCKET is unset
// (no systemd, Type=simple, a shell) nothing is sent and nothing changes.
#ifndef RELAY_RELAYD_SD_NOTIFY_H_
#define RELAY_RELAYD_SD_NOTIFY_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace relay {

// $NOTIFY_SOCKET's value as a socket address: "/path" or "@abstract"
// (the '@' becomes a NUL byte). False for anything else (empty, relative,
// too long, another address family such as "vsock:").
bool NotifySocketAddress(std::string_view value, sockaddr_un* addr, socklen_t* len);

// The watchdog interval in micros from $WATCHDOG_USEC and $WATCHDOG_PID
// (either may be null), for the process self: 0 when there is none, when
// the value is not a positive decimal number, or when WATCHDOG_PID names
// another process (the watchdog is not ours to pet).
int64_t WatchdogMicros(const char* usec, const char* pid, pid_t self);

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and removes them
  // from the environment, so that no child (relay-deliver, an alert
  // command) talks to systemd in relayd's name. *problem: why a set
  // NOTIFY_SOCKET cannot be used ("" when it can, or is unset).
  static SystemdNotifier FromEnvironment(std::string* problem);
  SystemdNotifier() = default;
  SystemdNotifier(SystemdNotifier&& o) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;
  ~SystemdNotifier();

  bool enabled() const { return fd_ >= 0; }
  int64_t watchdog_micros() const { return watchdog_; }
  // Sends one message ("READY=1"); best effort: false when it could not.
  bool Send(std::string_view message) const;

 private:
  int fd_ = -1;
  sockaddr_un addr_{};
  socklen_t len_ = 0;
  int64_t watchdog_ = 0;
};

}  // namespace relay

#endif  // RELAY_RELAYD_SD_NOTIFY_H_
