// libFuzzer target for the aliases file parser and alias expansion. The
// input is an aliases file; the names it appears to define, and a few fixed
// ones, are expanded and the results checked against Expand's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relay/message/aliases.h"

namespace {

const relay::LocalPolicy kPolicy{"example.com", {"localhost", "Host.Example.Com"}};

void Require(bool condition) {
  if (!condition) std::abort();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The text before ':' on each of the first lines: likely alias names, so
// that expansion gets exercised on what the fuzzer defined.
std::vector<std::string> Recipients(std::string_view text) {
  std::vector<std::string> out = {"root", "postmaster", "bob", "a", "*",
                                  "root@localhost", "x@elsewhere.org"};
  while (!text.empty() && out.size() < 24) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) out.emplace_back(line.substr(0, colon));
  }
  return out;
}

void CheckExpansion(const relay::Aliases& aliases, const std::string& recipient) {
  std::vector<std::string> result = aliases.Expand(recipient, kPolicy);
  Require(!result.empty());
  std::set<std::string> seen;
  for (const std::string& address : result) {
    Require(seen.insert(Lower(address)).second);  // de-duplicated
    // Everything local was either expanded or qualified with the policy
    // domain, which is not a local one. The exceptions are addresses with
    // nothing before their '@', passed through for the envelope checks.
    if (relay::Aliases::IsLocal(address, kPolicy)) {
      Require(address == recipient || address.empty() || address.front() == '@');
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<relay::AliasProblem> problems;
  relay::Aliases aliases = relay::Aliases::Parse(text, &problems);
  for (const relay::AliasProblem& p : problems) {
    Require(p.line >= 1);
    Require(!p.message.empty());
    Require(p.message.find('\n') == std::string::npos);
  }
  for (const std::string& recipient : Recipients(text)) {
    CheckExpansion(aliases, recipient);
  }
  return 0;
}
