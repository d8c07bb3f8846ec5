// Numeric socket addresses and networks, for the SMTP listener: parsing
// what `listen` and `listen_allow` say, and deciding whether a client is
// on loopback or on a network the admin allowed. Pure: no DNS, ever (a
// name that resolves differently tomorrow must not widen who may connect).
#ifndef RELAY_BASE_NETWORK_H_
#define RELAY_BASE_NETWORK_H_

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace relay {

// "192.0.2.0/24", "2001:db8::/32", or one address ("192.0.2.7" is /32).
struct Network {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char addr[16] = {};
  int prefix = 0;
};
bool ParseNetwork(std::string_view text, Network* out);
// An IPv4-mapped IPv6 client (::ffff:192.0.2.7, from a dual-stack socket)
// matches IPv4 networks.
bool NetworkContains(const Network& n, const sockaddr_storage& a);

// "127.0.0.1:25", "[::1]:25", "0.0.0.0:25", "[::]:25" or "localhost:25"
// (which is 127.0.0.1): numbers only, with a port.
bool ParseSocketAddress(const std::string& spec, sockaddr_storage* ss, socklen_t* len);

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool IsLoopback(const sockaddr_storage& a);

// "127.0.0.1" and the port of a socket address.
std::string AddrText(const sockaddr_storage& a);
int AddrPort(const sockaddr_storage& a);

}  // namespace relay

#endif  // RELAY_BASE_NETWORK_H_
