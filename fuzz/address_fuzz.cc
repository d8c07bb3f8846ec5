// libFuzzer target for the RFC 5322 address parser. Besides "no crash, no
// out-of-bounds read" (ASan/UBSan's job), it checks the properties callers
// rely on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relay/message/address.h"

namespace {

constexpr std::string_view kDomain = "example.com";

void Require(bool condition) {
  if (!condition) std::abort();
}

// QualifyAddresses may only insert "@example.com" at the recorded offsets:
// the input must be the output with those insertions taken out.
void CheckQualify(std::string_view text, const relay::AddressList& list) {
  std::string out = relay::QualifyAddresses(text, kDomain);
  size_t unqualified = 0;
  for (const relay::Mailbox& mb : list.mailboxes) {
    if (mb.domain.empty()) ++unqualified;
  }
  Require(out.size() == text.size() + unqualified * (kDomain.size() + 1));
  // Input bytes appear in order in the output, with exactly the insertions.
  size_t o = 0;
  size_t from = 0;
  for (const relay::Mailbox& mb : list.mailboxes) {
    if (!mb.domain.empty()) continue;
    size_t n = mb.qualify_at - from;
    Require(out.compare(o, n, text.substr(from, n)) == 0);
    o += n;
    Require(out.compare(o, kDomain.size() + 1, "@" + std::string(kDomain)) == 0);
    o += kDomain.size() + 1;
    from = mb.qualify_at;
  }
  Require(out.compare(o, std::string::npos, text.substr(from)) == 0);

  // Qualifying makes every mailbox qualified and changes nothing else the
  // parser sees.
  relay::AddressList again = relay::ParseAddressList(out);
  Require(again.errors == list.errors);
  Require(again.mailboxes.size() == list.mailboxes.size());
  for (size_t i = 0; i < again.mailboxes.size(); ++i) {
    const relay::Mailbox& before = list.mailboxes[i];
    const relay::Mailbox& after = again.mailboxes[i];
    Require(after.local_part == before.local_part);
    Require(after.display_name == before.display_name);
    Require(after.domain == (before.domain.empty() ? std::string(kDomain) : before.domain));
  }
}

void CheckList(std::string_view text, const relay::AddressList& list) {
  Require(list.errors >= 0);
  // One text per skipped element (sendmail -t logs them), no longer than
  // the input, with no line break that could forge a log line.
  Require(list.skipped.size() == static_cast<size_t>(list.errors));
  for (const std::string& s : list.skipped) {
    Require(s.size() <= text.size());
    Require(s.find_first_of("\r\n") == std::string::npos);
  }
  size_t last = 0;
  for (const relay::Mailbox& mb : list.mailboxes) {
    Require(!mb.local_part.empty());
    if (mb.domain.empty()) {
      Require(mb.qualify_at <= text.size());
      Require(mb.qualify_at >= last);  // offsets increase along the text
      last = mb.qualify_at;
    }
  }
}

void CheckSender(std::string_view text) {
  std::string sender;
  relay::Status st = relay::ParseSenderArgument(text, &sender);
  if (!st.ok()) {
    Require(st.kind() == relay::Status::Kind::kUsage);
    Require(st.message().find('\n') == std::string::npos);
  }
}

void CheckEnvelope(std::string_view text) {
  relay::Status st = relay::CheckEnvelopeAddress(text);
  if (st.ok()) {
    Require(!text.empty() && text.size() <= relay::kMaxAddressLength);
    for (char c : text) {
      unsigned char u = static_cast<unsigned char>(c);
      Require(u >= 0x20 && u != 0x7f);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  relay::AddressList list = relay::ParseAddressList(text);
  CheckList(text, list);
  CheckQualify(text, list);
  CheckSender(text);
  CheckEnvelope(text);
  return 0;
}
