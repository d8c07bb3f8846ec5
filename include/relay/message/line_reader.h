// LineSplitter: turns the bytes sendmail reads from its standard input into
// lines, in bounded memory. Pure: the caller feeds bytes, a sink receives
// pieces.
//
// The rules (written in sendmail(8) as well):
//  - LF and CRLF both end a line, mixed freely (PHP sends CRLF headers and
//    an LF body).
//  - A CR that is not followed by LF is dropped, and so is every NUL byte:
//    neither may reach the SMTP stream, where a bare CR is a smuggling
//    vector and NUL is not allowed.
//  - A last line without a newline is ended as if it had one.
//  - A line longer than the piece size is delivered in several pieces, each
//    but the last with end_of_line == false, so memory does not grow with
//    line length. Nothing is ever truncated.
#ifndef RELAY_MESSAGE_LINE_READER_H_
#define RELAY_MESSAGE_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relay {

class LineSink {
 public:
  virtual ~LineSink() = default;
  // Receives a piece of a line; text may point into the bytes given to
  // Feed, so it is valid only during the call. Returns false to stop the splitter (for
  // example after the lone "." that ends the input, or on an error).
  virtual bool OnPiece(std::string_view text, bool end_of_line) = 0;
};

class LineSplitter {
 public:
  explicit LineSplitter(LineSink* sink, size_t piece_size = 4096)
      : sink_(sink), piece_size_(piece_size) {
    cur_.reserve(piece_size);
  }

  // Returns false once the sink has asked to stop; later calls do nothing.
  bool Feed(std::string_view data);
  // Ends the input: delivers a last unterminated line.
  bool Finish();

  // Bytes dropped under the rules above, for diagnostics.
  uint64_t dropped_cr() const { return dropped_cr_; }
  uint64_t dropped_nul() const { return dropped_nul_; }

 private:
  bool Emit(bool end_of_line);  // cur_
  bool Emit(std::string_view text, bool end_of_line);

  LineSink* sink_;
  size_t piece_size_;
  std::string cur_;
  bool pending_cr_ = false;
  bool stopped_ = false;
  bool line_started_ = false;  // a piece of the current line was emitted
  uint64_t dropped_cr_ = 0;
  uint64_t dropped_nul_ = 0;
};

}  // namespace relay

#endif  // RELAY_MESSAGE_LINE_READER_H_
