// Header fields: recognising them in the input and writing the ones relay
// adds. Pure functions.
#ifndef RELAY_MESSAGE_HEADER_H_
#define RELAY_MESSAGE_HEADER_H_

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

// A header field as it came in: its lines joined with '\n' (no final
// newline), byte for byte otherwise, so folding and case survive.
struct HeaderField {
  std::string text;
  size_t name_size = 0;  // bytes of the field name at the start of text

  std::string_view name() const { return std::string_view(text).substr(0, name_size); }
  // Everything after the colon, folded lines included.
  std::string_view raw_value() const;
  // The value with folding removed (CRLF/LF before whitespace deleted).
  std::string Unfolded() const;
  bool Is(std::string_view n) const;  // case-insensitive name match
};

// If line starts a header field ("Name:" or "Name :", the name printable
// ASCII without ':'), returns true and sets *name_size.
bool IsHeaderStart(std::string_view line, size_t* name_size);
inline bool IsContinuation(std::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

// "Tue, 24 Nov 2026 19:30:00 +0100" for t in a zone gmtoff seconds east.
std::string FormatRfc5322Date(time_t t, long gmtoff);

// A display name ready for a From header: as it is when it is only atoms,
// as a quoted string when it has specials, RFC 2047 encoded words (UTF-8,
// base64) when it is not ASCII.
std::string EncodeDisplayName(std::string_view name);

// The full name of a user from the passwd GECOS field: up to the first
// comma, with '&' replaced by the login with its first letter capitalised.
std::string FullNameFromGecos(std::string_view gecos, std::string_view login);

}  // namespace relay

#endif  // RELAY_MESSAGE_HEADER_H_
