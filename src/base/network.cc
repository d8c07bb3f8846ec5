#include "relay/base/network.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "relay/base/config.h"

namespace relay {
namespace {

// The address bytes to compare, IPv4-mapped IPv6 unwrapped to IPv4.
int AddressBytes(const sockaddr_storage& a, unsigned char out[16]) {
  if (a.ss_family == AF_INET) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, 4);
    return AF_INET;
  }
  if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(out, in6->sin6_addr.s6_addr + 12, 4);
      return AF_INET;
    }
    std::memcpy(out, &in6->sin6_addr, 16);
    return AF_INET6;
  }
  return 0;
}

}  // namespace

bool ParseNetwork(std::string_view text, Network* out) {
  *out = Network();
  std::string addr(text.substr(0, text.find('/')));
  int max = 0;
  if (inet_pton(AF_INET, addr.c_str(), out->addr) == 1) {
    out->family = AF_INET;
    max = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), out->addr) == 1) {
    out->family = AF_INET6;
    max = 128;
  } else {
    return false;
  }
  out->prefix = max;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), out->prefix);
    if (p.empty() || p[0] < '0' || p[0] > '9' || ec != std::errc() || end != p.data() + p.size() ||
        out->prefix > max)
      return false;
  }
  // Host bits set ("192.0.2.7/24") are a typo more often than not: refused
  // rather than guessed at.
  for (int bit = out->prefix; bit < max; ++bit)
    if (out->addr[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

bool NetworkContains(const Network& n, const sockaddr_storage& a) {
  unsigned char bytes[16];
  if (AddressBytes(a, bytes) != n.family) return false;
  int full = n.prefix / 8, rest = n.prefix % 8;
  if (std::memcmp(bytes, n.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (n.addr[full] & mask);
}

bool ParseSocketAddress(const std::string& spec, sockaddr_storage* ss, socklen_t* len) {
  std::vector<Smarthost> h;
  if (!ParseSmarthosts(spec, &h).ok() || h.size() != 1 || h[0].port == 0) return false;
  std::string host = h[0].host == "localhost" ? "127.0.0.1" : h[0].host;
  *ss = sockaddr_storage{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
  auto* in = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(h[0].port);
    *len = sizeof *in6;
  } else if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(h[0].port);
    *len = sizeof *in;
  } else {
    return false;
  }
  return true;
}

bool IsLoopback(const sockaddr_storage& a) {
  unsigned char bytes[16];
  int family = AddressBytes(a, bytes);
  if (family == AF_INET) return bytes[0] == 127;
  return family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(reinterpret_cast<const in6_addr*>(bytes));
}

std::string AddrText(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, buf, sizeof buf);
  else if (a.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, buf, sizeof buf);
  return buf;
}

int AddrPort(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
  return 0;
}

}  // namespace relay
