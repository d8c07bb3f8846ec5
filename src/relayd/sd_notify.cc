#include "relay/relayd/sd_notify.h"

#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace relay {

bool NotifySocketAddress(std::string_view value, sockaddr_un* addr, socklen_t* len) {
  if (value.size() < 2 || (value[0] != '/' && value[0] != '@')) return false;
  if (value.size() > sizeof addr->sun_path - (value[0] == '/' ? 1 : 0)) return false;
  if (value.find('\0') != std::string_view::npos) return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, value.data(), value.size());
  if (value[0] == '@') a.sun_path[0] = '\0';
  // An abstract name is exactly its bytes (no terminating NUL counts); a
  // path is NUL-terminated by the zeroed rest of sun_path.
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + value.size() + (value[0] == '/' ? 1 : 0));
  *addr = a;
  return true;
}

namespace {

bool Decimal(const char* s, int64_t* out) {
  if (s == nullptr || *s < '0' || *s > '9') return false;
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, *out);
  return ec == std::errc() && p == end;
}

}  // namespace

int64_t WatchdogMicros(const char* usec, const char* pid, pid_t self) {
  int64_t us = 0, p = 0;
  if (!Decimal(usec, &us) || us <= 0) return 0;
  if (pid != nullptr && (!Decimal(pid, &p) || p != self)) return 0;
  return us;
}

SystemdNotifier SystemdNotifier::FromEnvironment(std::string* problem) {
  problem->clear();
  SystemdNotifier n;
  const char* sock = std::getenv("NOTIFY_SOCKET");
  std::string value = sock ? sock : "";
  n.watchdog_ = WatchdogMicros(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), getpid());
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  if (sock == nullptr) {
    n.watchdog_ = 0;
    return n;
  }
  if (!NotifySocketAddress(value, &n.addr_, &n.len_)) {
    *problem = "NOTIFY_SOCKET '" + value + "' is not a path or an @abstract socket name; not notifying systemd";
    n.watchdog_ = 0;
    return n;
  }
  n.fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (n.fd_ < 0) {
    *problem = std::string("NOTIFY_SOCKET: socket: ") + std::strerror(errno);
    n.watchdog_ = 0;
  }
  return n;
}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& o) noexcept
    : fd_(o.fd_), addr_(o.addr_), len_(o.len_), watchdog_(o.watchdog_) {
  o.fd_ = -1;
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) close(fd_);
}

bool SystemdNotifier::Send(std::string_view message) const {
  if (fd_ < 0) return false;
  ssize_t n = sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&addr_), len_);
  return n == static_cast<ssize_t>(message.size());
}

}  // namespace relay
