// Small string helpers shared by the parsers.
#ifndef RELAY_BASE_STRINGS_H_
#define RELAY_BASE_STRINGS_H_

#include <string>
#include <string_view>
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

}  // namespace relay

#endif  // RELAY_BASE_STRINGS_H_
