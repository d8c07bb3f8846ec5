// libFuzzer target for relayd's alert state and the JSON it writes for
// alert_command (relayd/alerts.h, relayd/json_object.h). The input is
// taken both as a state/.alerts file and as a string to encode. Besides
// "no crash", it checks:
//  - state/.alerts: what Parse takes, Encode writes so that Parse gives
//    it back (Encode of the result is a fixed point);
//  - JsonQuote: one JSON string (RFC 8259) whatever the bytes: quotes at
//    both ends, every escape one JSON knows, no raw control byte, DEL,
//    quote or backslash, and only valid UTF-8 between the escapes; and an
//    input that was printable ASCII comes back unchanged once unescaped.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relay/relayd/alerts.h"
#include "relay/relayd/json_object.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "alerts_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool Hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The length of a valid UTF-8 sequence at s[i] (RFC 3629 table), 0 if none.
size_t Utf8At(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  unsigned c = b(0);
  auto cont = [&](size_t k) { return b(k) >= 0x80 && b(k) <= 0xBF; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return b(1) >= 0xA0 && b(1) <= 0xBF && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return b(1) >= 0x80 && b(1) <= 0x9F && cont(2) ? 3 : 0;
  if (c == 0xF0) return b(1) >= 0x90 && b(1) <= 0xBF && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return b(1) >= 0x80 && b(1) <= 0x8F && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Checks q is one JSON string; returns its ASCII unescaping (non-ASCII
// escapes become '?').
std::string CheckJsonString(std::string_view q) {
  Require(q.size() >= 2 && q.front() == '"' && q.back() == '"', "quoted");
  std::string_view in = q.substr(1, q.size() - 2);
  std::string out;
  for (size_t i = 0; i < in.size();) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '\\') {
      Require(i + 1 < in.size(), "an escape is complete");
      char e = in[i + 1];
      if (e == 'u') {
        Require(i + 5 < in.size() + 0 && Hex(in[i + 2]) && Hex(in[i + 3]) && Hex(in[i + 4]) && Hex(in[i + 5]),
                "\\u and four hex digits");
        unsigned v = static_cast<unsigned>(std::strtoul(std::string(in.substr(i + 2, 4)).c_str(), nullptr, 16));
        out.push_back(v < 0x80 ? static_cast<char>(v) : '?');
        i += 6;
        continue;
      }
      static const std::string_view kSimple = "\"\\/bfnrt", kMeaning = "\"\\/\b\f\n\r\t";
      size_t k = kSimple.find(e);
      Require(k != std::string_view::npos, "a known escape");
      out.push_back(kMeaning[k]);
      i += 2;
      continue;
    }
    Require(c != '"', "no raw quote");
    Require(c >= 0x20 && c != 0x7f, "no raw control byte or DEL");
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t n = Utf8At(in, i);
    Require(n > 0, "raw bytes are valid UTF-8");
    out.push_back('?');
    i += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  relay::AlertState st = relay::AlertState::Parse(text);
  std::string once = st.Encode();
  Require(relay::AlertState::Parse(once).Encode() == once, "Encode(Parse(Encode)) is a fixed point");

  std::string back = CheckJsonString(relay::JsonQuote(text));
  bool ascii = true;
  for (unsigned char c : text) ascii &= c < 0x80;
  if (ascii) Require(back == text, "ASCII comes back unchanged once unescaped");

  relay::JsonObject o;
  o.Add(text, text).Add("n", int64_t{-1});
  std::string obj = o.Text();
  Require(obj.front() == '{' && obj.back() == '}', "an object");
  return 0;
}
