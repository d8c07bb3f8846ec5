// Finding and reaching the smarthost: name resolution through c-ares
// (/etc/hosts and resolv.conf honoured, with a timeout) and RFC 8305 Happy
// Eyeballs: addresses are tried IPv6 and IPv4 interleaved, starting the
// next attempt 250 ms after the previous one if it has not connected yet,
// so a dead address family costs a fraction of a second, not a timeout.
#ifndef RELAY_DELIVER_RESOLVER_H_
#define RELAY_DELIVER_RESOLVER_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "relay/base/status.h"

namespace relay {

struct SockAddr {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "127.0.0.1", "::1"
  int family() const { return addr.ss_family; }
};

inline constexpr int kHappyEyeballsDelayMs = 250;

// An IPv4 dotted quad ("127.0.0.1", all four parts) or an IPv6 address
// ("::1", no brackets) for TCP port: true and *out filled; false for
// anything else (a name). Pure.
bool AddressLiteral(const std::string& host, uint16_t port, SockAddr* out);

// Resolves host (a name or an address literal) for TCP port. A literal is
// its own answer: no query leaves the host for it (c-ares 1.18, asked for
// any family, sends "127.0.0.1" to the nameservers in resolv.conf as a
// name). A failure is temporary, with c-ares' reason.
Status Resolve(const std::string& host, uint16_t port, int timeout_ms, std::vector<SockAddr>* out);

// Orders addresses as RFC 8305 4 does: families alternate, starting with
// IPv6 when there is any. Pure.
std::vector<SockAddr> InterleaveFamilies(const std::vector<SockAddr>& in);

// Connects to the first address that answers, racing them as above. On
// success *fd is a connected non-blocking socket and *which its address.
Status ConnectHappyEyeballs(const std::vector<SockAddr>& addrs, int timeout_ms, int* fd,
                            SockAddr* which);

}  // namespace relay

#endif  // RELAY_DELIVER_RESOLVER_H_
