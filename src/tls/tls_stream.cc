#include "relay/tls/tls_stream.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/tls/openssl_loader.h"

namespace relay {
namespace {

Status Temp(std::string msg) { return Status::TempFail(std::move(msg)); }

}  // namespace

// Linked directly, OpenSSL is always there; relay-deliver's
// openssl_lazy.cc defines the strong OpenSslLoaded that loads it.
__attribute__((weak)) bool OpenSslLoaded(std::string*) { return true; }

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string HexBytes(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

Stream::Stream(int fd) : fd_(fd) {
  if (fd_ >= 0) fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

Stream::~Stream() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
}

Status Stream::WaitFor(short events, int timeout_ms, const char* what) {
  struct pollfd p = {fd_, events, 0};
  for (;;) {
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "poll");
    if (n == 0) {
      timed_out_ = true;
      return Temp(std::string("timeout ") + what);
    }
    return Status::Ok();
  }
}

Status Stream::TlsWait(int ret, int timeout_ms, const char* what) {
  int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ) return WaitFor(POLLIN, timeout_ms, what);
  if (e == SSL_ERROR_WANT_WRITE) return WaitFor(POLLOUT, timeout_ms, what);
  if (e == SSL_ERROR_ZERO_RETURN) return Temp(std::string("connection closed ") + what);
  if (e == SSL_ERROR_SYSCALL) {
    std::string why = errno ? std::strerror(errno) : "connection closed";
    ERR_clear_error();
    return Temp(why + " " + what);
  }
  return Temp(std::string("TLS error ") + what + ": " + OpenSslError());
}

Status Stream::AcceptTls(SSL_CTX* ctx, int timeout_ms) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) return Temp("TLS: " + OpenSslError());
  SSL_set_fd(ssl_, fd_);
  for (;;) {
    int r = SSL_accept(ssl_);
    if (r == 1) return Status::Ok();
    Status s = TlsWait(r, timeout_ms, "in TLS handshake");
    if (!s.ok()) return s;
  }
}

Status Stream::Write(std::string_view data, int timeout_ms) {
  timed_out_ = false;
  while (!data.empty()) {
    if (ssl_) {
      size_t written = 0;
      int r = SSL_write_ex(ssl_, data.data(), data.size(), &written);
      if (r == 1) {
        data.remove_prefix(written);
        continue;
      }
      Status s = TlsWait(r, timeout_ms, "writing");
      if (!s.ok()) return s;
      continue;
    }
    ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return Temp(std::string("write: ") + std::strerror(errno));
    Status s = WaitFor(POLLOUT, timeout_ms, "writing");
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Stream::Read(std::string* out, int timeout_ms) {
  timed_out_ = false;
  char buf[16384];
  for (;;) {
    if (ssl_) {
      size_t got = 0;
      int r = SSL_read_ex(ssl_, buf, sizeof buf, &got);
      if (r == 1) {
        out->append(buf, got);
        return Status::Ok();
      }
      Status s = TlsWait(r, timeout_ms, "reading");
      if (!s.ok()) return s;
      continue;
    }
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n == 0) return Temp("connection closed by peer");
    if (errno != EAGAIN && errno != EINTR) return Temp(std::string("read: ") + std::strerror(errno));
    Status s = WaitFor(POLLIN, timeout_ms, "reading");
    if (!s.ok()) return s;
  }
}

void Stream::Abort() { shutdown(fd_, SHUT_RDWR); }

bool Stream::Readable() const {
  if (ssl_ && SSL_pending(ssl_) > 0) return true;
  struct pollfd p = {fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

}  // namespace relay
