// libFuzzer target for issue 17's parsers in deliver/: the From header
// rewrite (sender_rewrite.h), the sender_map and smarthost_quota_replies
// files, the quota reply classifier (quota_reply.h) and the state/.limits
// ledger (rate_limit.h).
//
// Input: byte 0 chooses the rewrite mode; the rest is used whole as the
// header block, the map text, the pattern text, a reply and the ledger.
//
// Checked:
//  - RewriteFromHeader: a header whose line ends are all CRLF stays so;
//    a changed header carries the rewrite address and is left alone when
//    rewritten again (the address it now has is allowed); no line it adds
//    starts with "." (the dot rule of the DATA phase).
//  - ParseSenderMap: every address taken has an '@' and no white space.
//  - RateLimiter::Parse: what Encode writes parses back to the same text.
//  - ClassifyQuotaReply: no crash on the built-in list and on the
//    patterns parsed from the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "relay/deliver/quota_reply.h"
#include "relay/deliver/rate_limit.h"
#include "relay/deliver/sender_rewrite.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "provider_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool OnlyCrlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
  }
  return true;
}

size_t DotLines(std::string_view s) {
  size_t n = !s.empty() && s[0] == '.';
  for (size_t p = s.find("\r\n"); p != std::string_view::npos; p = s.find("\r\n", p + 2))
    n += p + 2 < s.size() && s[p + 2] == '.';
  return n;
}

void CheckRewrite(std::string_view head, relay::SenderRewrite mode) {
  relay::Config cfg;
  cfg.sender_rewrite = mode;
  cfg.sender_address = "me@provider.example";
  relay::SenderPolicy p;
  Require(relay::MakeSenderPolicy(cfg, "example.com", "host.example.com", "www-data web@provider.example\n", &p).ok(),
          "the fixed policy parses");
  std::string out;
  if (!relay::RewriteFromHeader(p, head, &out)) return;
  Require(out.find("@provider.example") != std::string::npos, "a rewritten From carries the address");
  if (OnlyCrlf(head)) Require(OnlyCrlf(out), "CRLF line ends stay CRLF");
  Require(DotLines(out) == DotLines(head), "no line starting with a dot is added");
  std::string again;
  Require(!relay::RewriteFromHeader(p, out, &again), "a rewritten header is left alone the second time");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  relay::SenderRewrite mode = data[0] % 2 ? relay::SenderRewrite::kEnvelopeAndHeader : relay::SenderRewrite::kEnvelope;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  CheckRewrite(in, mode);
  size_t hb = relay::HeaderBlockSize(in);
  if (hb != std::string_view::npos) Require(hb <= in.size(), "the header block is within the content");

  std::map<std::string, std::string> map;
  if (relay::ParseSenderMap(in, &map).ok())
    for (const auto& [k, v] : map)
      Require(v.find('@') != std::string::npos && v.find_first_of(" \t\r\n") == std::string::npos,
              "a map address has an '@' and no white space");

  std::vector<relay::QuotaPattern> patterns = relay::BuiltinQuotaPatterns();
  relay::ClassifyQuotaReply(patterns, in);
  if (relay::ParseQuotaPatterns(in, &patterns).ok()) relay::ClassifyQuotaReply(patterns, in);

  std::string enc = relay::RateLimiter::Parse(in).Encode();
  Require(relay::RateLimiter::Parse(enc).Encode() == enc, "the ledger parses back to itself");
  return 0;
}
