// WireFormCheck: is a queue file's content in wire form (queue_file.h)?
// CRLF line ends only (no bare CR, no bare LF), no NUL byte, every line that starts
// with "." starts with ".." (dot-stuffed, so no lone "." line can end the
// DATA phase early), and the content ends with CRLF or is empty.
//
// The injector writes nothing else, so a file that fails was not written
// by it: relay-deliver checks each piece as it streams the content (no
// extra pass) and moves a failing entry to corrupt/ without sending the
// final dot. Pure: bytes in, a verdict out.
#ifndef RELAY_MESSAGE_WIRE_FORM_H_
#define RELAY_MESSAGE_WIRE_FORM_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace relay {

class WireFormCheck {
 public:
  // Checks the next piece of content. False once the content is not in
  // wire form; error() then says what and where.
  bool Feed(std::string_view piece);
  // After the last piece: false if the content did not end with CRLF.
  bool Finish();
  const std::string& error() const { return error_; }

 private:
  enum class At { kLineStart, kDot, kMid, kCr };
  bool Fail(const char* what);

  At at_ = At::kLineStart;
  std::string error_;
};

}  // namespace relay

#endif  // RELAY_MESSAGE_WIRE_FORM_H_
