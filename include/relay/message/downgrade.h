// Downgrading an 8-bit message to 7-bit for a server without 8BITMIME
// (RFC 6152 3): the body is re-encoded as quoted-printable, the header says
// so. Pure and streaming: wire form in (CRLF, dot-stuffed), wire form out,
// memory bounded by the header block.
//
// What can be converted (CanDowngrade): a message whose header block is
// 7-bit and which is a single part of type text/* (or has no Content-Type,
// which means text/plain), with no Content-Transfer-Encoding or one of
// 7bit/8bit. Anything else (8-bit headers, multipart, message/*, binary)
// is not converted: relay bounces it rather than send 8-bit data to a
// server that did not ask for it, or damage a structure it does not parse.
#ifndef RELAY_MESSAGE_DOWNGRADE_H_
#define RELAY_MESSAGE_DOWNGRADE_H_

#include <string>
#include <string_view>

namespace relay {

// header: the message's header block in wire form, up to and including
// the empty line (or all of the content when there is no empty line).
bool CanDowngrade(std::string_view header);

class Downgrader {
 public:
  // Appends the converted form of data to *out. Call in order, any split.
  void Feed(std::string_view data, std::string* out);
  // Ends the message: converts a last line that had no CRLF.
  void Finish(std::string* out);

 private:
  void Line(std::string_view line, std::string* out);
  void EncodeBodyLine(std::string_view line, std::string* out);

  std::string pending_;  // a partial line
  bool in_header_ = true;
  bool have_mime_version_ = false;
  bool skipping_ = false;  // inside the old Content-Transfer-Encoding field
};

}  // namespace relay

#endif  // RELAY_MESSAGE_DOWNGRADE_H_
