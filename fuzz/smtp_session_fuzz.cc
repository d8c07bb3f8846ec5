// The SMTP client state machine driven by a hostile server's replies: it
// must never crash, never send MAIL before a required STARTTLS succeeded,
// and always end every recipient in a final state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/smtp/smtp_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  bool require_tls = data[0] & 1;
  relay::SmtpSession s({"client.test", require_tls, false});
  relay::ReplyParser p;
  p.Feed(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  relay::MessageJob job;
  job.sender = "a@x";
  job.recipients = {"b@y", "c@z"};
  job.size = 100;
  bool tls_up = false;
  int messages = 0;
  for (int steps = 0; steps < 1000; ++steps) {
    std::string out = s.TakeOutput();
    if (require_tls && !tls_up && out.find("MAIL FROM") != std::string::npos) __builtin_trap();
    switch (s.want()) {
      case relay::SmtpSession::Want::kReply: {
        relay::Reply r;
        std::string err;
        if (p.Next(&r, &err) != relay::ReplyParser::Result::kReply) {
          s.OnConnectionLost("end of input");
          break;
        }
        s.OnReply(r);
        break;
      }
      case relay::SmtpSession::Want::kTlsHandshake:
        tls_up = true;
        s.OnTlsUp();
        break;
      case relay::SmtpSession::Want::kBody: s.OnBodySent(); break;
      case relay::SmtpSession::Want::kMessage:
        if (s.HasOutcome()) {
          for (const auto& o : s.TakeOutcome())
            if (o.state == relay::RcptState::kPending || o.state == relay::RcptState::kAccepted)
              __builtin_trap();
        }
        if (messages++ < 3) s.SendMessage(job);
        else s.Quit();
        break;
      case relay::SmtpSession::Want::kClosed: return 0;
    }
  }
  return 0;
}
