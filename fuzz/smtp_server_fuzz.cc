// The SMTP server dialogue driven by a hostile client: it must never
// crash, never hand a message to the spool before TLS and AUTH when they
// are required, never take bytes pipelined behind STARTTLS, and never
// call the backend out of order. A twin session with a flush function
// must say the same replies in the same order, each flush ending with
// the reply to a final dot.
#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/smtp_server.h"

namespace {

class Backend : public relay::ServerBackend {
 public:
  relay::Status Begin(const relay::MailTransaction& t) override {
    if (open) __builtin_trap();  // Begin twice without End/Abort
    if (require_auth && (!t.tls || t.auth_user.empty())) __builtin_trap();
    open = true;
    return relay::Status::Ok();
  }
  relay::Status Data(std::string_view) override {
    if (!open) __builtin_trap();
    return relay::Status::Ok();
  }
  relay::Status End(std::string* id) override {
    if (!open) __builtin_trap();
    open = false;
    *id = "ID";
    return relay::Status::Ok();
  }
  void Abort() override { open = false; }
  bool open = false;
  bool require_auth = false;
};

class Auth : public relay::ServerAuthenticator {
 public:
  bool Check(const std::string& user, const std::string& password) override {
    return user == "alice" && password == "s3cret";
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  relay::ServerParams p;
  p.hostname = "mx.test";
  p.size_limit = 2000;
  p.max_recipients = 5;
  p.offer_starttls = data[0] & 1;
  p.require_auth = data[0] & 2;
  bool cert = data[0] & 4;
  Backend b, twin_b;
  b.require_auth = twin_b.require_auth = p.require_auth;
  Auth auth;
  relay::SmtpServer s(p, &b, (data[0] & 8) ? &auth : nullptr);
  relay::SmtpServer twin(p, &twin_b, (data[0] & 8) ? &auth : nullptr);
  std::string flushed;
  twin.set_flush([&flushed](const std::string& out) {
    size_t last = out.size() < 3 ? std::string::npos : out.rfind("\r\n", out.size() - 3);
    std::string_view line = std::string_view(out).substr(last == std::string::npos ? 0 : last + 2);
    if (!line.starts_with("250 2.0.0 Ok: queued") && !line.starts_with("451 ") && !line.starts_with("552 ") &&
        !line.starts_with("554 ") && !line.starts_with("421 "))
      __builtin_trap();
    flushed += out;
    return true;
  });
  // The rest, in chunks split at 0xff bytes: each chunk is one read.
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t pos = 0;
  while (pos <= in.size() && !s.closed()) {
    size_t end = in.find('\xff', pos);
    if (end == std::string::npos) end = in.size();
    std::string out = s.Feed(std::string_view(in).substr(pos, end - pos));
    flushed += twin.Feed(std::string_view(in).substr(pos, end - pos));
    if (flushed != out || twin.closed() != s.closed()) __builtin_trap();
    flushed.clear();
    if (s.tls_requested()) {
      // Nothing may follow the 220: the rest of the read was dropped.
      static const std::string k220 = "220 2.0.0 Ready to start TLS\r\n";
      if (out.size() < k220.size() || out.compare(out.size() - k220.size(), k220.size(), k220) != 0)
        __builtin_trap();
      s.TlsStarted(cert ? "client.test" : "");
      twin.TlsStarted(cert ? "client.test" : "");
    }
    pos = end + 1;
  }
  s.Disconnected();
  twin.Disconnected();
  if (b.open || twin_b.open) __builtin_trap();  // the message was neither ended nor aborted
  return 0;
}
