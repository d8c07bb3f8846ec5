// The 8-bit to quoted-printable downgrade on arbitrary wire-form input:
// the body it writes must be 7-bit with lines of at most 76 characters,
// whatever the input and however it is split.
#include <cstddef>
#include <cstdint>
#include <string>

#include "relay/message/downgrade.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t chunk = 1 + data[0] % 32;
  relay::CanDowngrade(in);
  relay::Downgrader d;
  std::string out;
  for (size_t i = 0; i < in.size(); i += chunk) d.Feed(std::string_view(in).substr(i, chunk), &out);
  d.Finish(&out);
  size_t body = out.find("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
  if (body == std::string::npos) return 0;  // still in the header
  size_t col = 0;
  for (size_t i = body; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0x80) __builtin_trap();
    if (c == '\n') col = 0;
    else if (++col > 80) __builtin_trap();
  }
  return 0;
}
