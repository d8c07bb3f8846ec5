#include "relay/deliver/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>

namespace relay {
namespace {

using Clock = std::chrono::steady_clock;

int MsUntil(Clock::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return d < 0 ? 0 : static_cast<int>(d);
}

struct Lookup {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<SockAddr> addrs;
};

void OnAddrInfo(void* arg, int status, int, struct ares_addrinfo* res) {
  auto* l = static_cast<Lookup*>(arg);
  l->done = true;
  l->status = status;
  if (status != ARES_SUCCESS || !res) return;
  for (struct ares_addrinfo_node* n = res->nodes; n; n = n->ai_next) {
    SockAddr a;
    std::memcpy(&a.addr, n->ai_addr, n->ai_addrlen);
    a.len = n->ai_addrlen;
    char buf[INET6_ADDRSTRLEN] = "?";
    if (n->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr, buf, sizeof buf);
    else if (n->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr, buf, sizeof buf);
    a.text = buf;
    bool dup = false;
    for (const SockAddr& have : l->addrs) dup |= have.text == a.text;
    if (!dup) l->addrs.push_back(a);
  }
  ares_freeaddrinfo(res);
}

std::once_flag g_ares_init;

}  // namespace

bool AddressLiteral(const std::string& host, uint16_t port, SockAddr* out) {
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
  // inet_pton, not inet_aton: "127.1" or "0x7f.0.0.1" are names here, as
  // they are to a resolver that is not being lenient.
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
  } else {
    return false;
  }
  a.text = host;
  *out = a;
  return true;
}

Status Resolve(const std::string& host, uint16_t port, int timeout_ms, std::vector<SockAddr>* out) {
  SockAddr literal;
  if (AddressLiteral(host, port, &literal)) {
    *out = {literal};
    return Status::Ok();
  }
  std::call_once(g_ares_init, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_channel channel;
  struct ares_options opts;
  std::memset(&opts, 0, sizeof opts);
  opts.timeout = std::max(1000, timeout_ms / 3);
  opts.tries = 2;
  if (ares_init_options(&channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
    return Status::TempFail("cannot initialise the resolver");
  struct ares_addrinfo_hints hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  Lookup lookup;
  std::string service = std::to_string(port);
  ares_getaddrinfo(channel, host.c_str(), service.c_str(), &hints, OnAddrInfo, &lookup);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!lookup.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> pfds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short ev = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
      if (ev) pfds.push_back({socks[i], ev, 0});
    }
    struct timeval tv, *tvp;
    tvp = ares_timeout(channel, nullptr, &tv);
    int wait = MsUntil(deadline);
    if (tvp) wait = std::min<int>(wait, static_cast<int>(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) + 1);
    if (MsUntil(deadline) == 0) break;
    poll(pfds.data(), pfds.size(), wait);
    for (const pollfd& p : pfds)
      ares_process_fd(channel, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                      (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    if (pfds.empty()) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  ares_destroy(channel);  // calls the callback with ARES_EDESTRUCTION if still pending
  if (!lookup.done || lookup.status == ARES_EDESTRUCTION)
    return Status::TempFail("timeout resolving " + host);
  if (lookup.status != ARES_SUCCESS)
    return Status::TempFail("cannot resolve " + host + ": " + ares_strerror(lookup.status));
  if (lookup.addrs.empty()) return Status::TempFail("no address for " + host);
  *out = InterleaveFamilies(lookup.addrs);
  return Status::Ok();
}

std::vector<SockAddr> InterleaveFamilies(const std::vector<SockAddr>& in) {
  if (in.empty()) return {};
  std::vector<SockAddr> first, other;
  // IPv6 first when there is any (RFC 6724's default preference).
  int fam = in.front().family();
  for (const SockAddr& a : in)
    if (a.family() == AF_INET6) fam = AF_INET6;
  for (const SockAddr& a : in) (a.family() == fam ? first : other).push_back(a);
  std::vector<SockAddr> out;
  for (size_t i = 0; i < first.size() || i < other.size(); ++i) {
    if (i < first.size()) out.push_back(first[i]);
    if (i < other.size()) out.push_back(other[i]);
  }
  return out;
}

Status ConnectHappyEyeballs(const std::vector<SockAddr>& addrs, int timeout_ms, int* fd,
                            SockAddr* which) {
  struct Attempt {
    int fd;
    size_t index;
  };
  std::vector<Attempt> pending;
  std::string last = "no address to connect to";
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto next_start = Clock::now();
  size_t next = 0;
  auto close_all = [&] {
    for (const Attempt& a : pending) close(a.fd);
    pending.clear();
  };
  for (;;) {
    if (next < addrs.size() && Clock::now() >= next_start) {
      const SockAddr& a = addrs[next];
      int s = socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (s >= 0 && (connect(s, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0 ||
                     errno == EINPROGRESS)) {
        pending.push_back({s, next});
      } else {
        last = "connect to " + a.text + ": " + std::strerror(errno);
        if (s >= 0) close(s);
      }
      ++next;
      next_start = Clock::now() + std::chrono::milliseconds(kHappyEyeballsDelayMs);
      continue;
    }
    if (pending.empty() && next >= addrs.size()) return Status::TempFail(last);
    if (MsUntil(deadline) == 0) {
      close_all();
      return Status::TempFail(last == "no address to connect to" ? "connect: timed out" : last + "; timed out");
    }
    int wait = MsUntil(deadline);
    if (next < addrs.size()) wait = std::min(wait, pending.empty() ? 0 : MsUntil(next_start));
    std::vector<pollfd> pfds;
    for (const Attempt& a : pending) pfds.push_back({a.fd, POLLOUT, 0});
    int n = poll(pfds.data(), pfds.size(), wait);
    if (n <= 0) continue;
    for (size_t i = pfds.size(); i-- > 0;) {
      if (!pfds[i].revents) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(pending[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        *fd = pending[i].fd;
        *which = addrs[pending[i].index];
        pending.erase(pending.begin() + static_cast<long>(i));
        close_all();
        return Status::Ok();
      }
      last = "connect to " + addrs[pending[i].index].text + ": " + std::strerror(err);
      close(pending[i].fd);
      pending.erase(pending.begin() + static_cast<long>(i));
      next_start = Clock::now();  // a failure starts the next attempt at once
    }
  }
}

}  // namespace relay
