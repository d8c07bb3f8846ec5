// SMTP replies and EHLO capabilities from a hostile server: the parser must
// stay bounded and never crash, whatever the bytes and however they are
// split across reads.
#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/smtp/smtp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t chunk = 1 + data[0] % 64;
  relay::ReplyParser p;
  for (size_t i = 0; i < in.size(); i += chunk) {
    p.Feed(std::string_view(in).substr(i, chunk));
    relay::Reply r;
    std::string err;
    for (;;) {
      auto res = p.Next(&r, &err);
      if (res != relay::ReplyParser::Result::kReply) break;
      if (r.code < 200 || r.code > 599) __builtin_trap();
      if (r.lines.size() > relay::kMaxReplyLines) __builtin_trap();
      for (const std::string& l : r.lines)
        if (l.size() > relay::kMaxReplyLine) __builtin_trap();
      relay::ParseEhlo(r);
      std::string t = r.Text();
      for (char c : t)
        if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
    }
    if (p.buffered() > in.size()) __builtin_trap();
  }
  return 0;
}
