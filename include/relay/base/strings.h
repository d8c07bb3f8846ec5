// Small string helpers shared by the parsers.
#ifndef RELAY_BASE_STRINGS_H_
#define RELAY_BASE_STRINGS_H_

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace relay {

// Removes spaces and tabs (and CR, LF) from both ends.
std::string_view Trim(std::string_view s);
// Splits on sep; "a,,b" gives three pieces, "" gives one empty piece.
std::vector<std::string_view> Split(std::string_view s, char sep);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
// Makes text from outside (the network, a file) safe to print on one line:
// control characters become '?', as in Postfix's printable(). UTF-8 is kept.
std::string Printable(std::string_view s);

// The first word of *rest, up to its first space; *rest keeps what
// follows that space (the state files' "key value ..." lines).
std::string_view NextWord(std::string_view* rest);

// All of s as a number of type T: false, and *out untouched, for "", a
// sign T cannot hold, anything after the digits, or a value out of range.
template <typename T>
bool WholeNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  *out = v;
  return true;
}

}  // namespace relay

#endif  // RELAY_BASE_STRINGS_H_
