// The SMTP server dialogue driven by a hostile client: it must never
// crash, never hand a message to the spool before TLS and AUTH when they
// are required, never take bytes pipelined behind STARTTLS, and never
// call the backend out of order. A twin session with a flush function
// must say the same replies in the same order, each flush ending with
// the reply to a final dot.
//
// No smuggling: one session never commits more messages than it has
// completed transactions. Each committed message needs its own final dot,
// a "." line that the server read right behind a line ended by CR LF and
// that itself ended by CR LF: a distinct place where the bytes the client
// sent (in order, read boundaries removed) hold CR LF "." CR LF. So the
// messages committed can never outnumber those places, nor the 354 and
// "250 2.1.0" (MAIL) replies given. A server that let a bare LF or CR
// stand in for either CR LF commits a message where the input has no such
// place.
#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/smtp/smtp_server.h"

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
    ++ended;
    *id = "ID";
    return relay::Status::Ok();
  }
  void Abort() override { open = false; }
  bool open = false;
  bool require_auth = false;
  size_t ended = 0;
};

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string_view::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

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
  p.local = {"example.com", {"localhost"}};  // the length check once qualified
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
  std::string stream;  // the bytes as the server reads them, read boundaries removed
  for (char c : in)
    if (c != '\xff') stream += c;
  const size_t final_dots = Count(stream, "\r\n.\r\n");
  std::string replies;
  size_t pos = 0;
  while (pos <= in.size() && !s.closed()) {
    size_t end = in.find('\xff', pos);
    if (end == std::string::npos) end = in.size();
    std::string out = s.Feed(std::string_view(in).substr(pos, end - pos));
    flushed += twin.Feed(std::string_view(in).substr(pos, end - pos));
    if (flushed != out || twin.closed() != s.closed()) __builtin_trap();
    // Input behind a refused DATA ends the session: nothing is answered
    // after the 421 that says so.
    static const std::string kPipelining = " improper pipelining after a refused DATA; closing\r\n";
    size_t cut = out.find(kPipelining);
    if (cut != std::string::npos && (cut + kPipelining.size() != out.size() || !s.closed())) __builtin_trap();
    flushed.clear();
    replies += out;
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
  // Never more messages than completed transactions (see the top).
  if (b.ended > final_dots || b.ended > Count(replies, "354 ") || b.ended > Count(replies, "250 2.1.0"))
    __builtin_trap();
  if (b.ended != static_cast<size_t>(s.accepted()) || twin_b.ended != b.ended) __builtin_trap();
  return 0;
}
