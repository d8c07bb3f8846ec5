// SMTP replies: a pure, bounded push parser (bytes in, replies out) and the
// EHLO capability list. Nothing here reads a socket.
//
// Limits, so that a hostile server cannot make relay use memory without
// bound: a reply line is at most kMaxReplyLine octets including CRLF (RFC
// 5321 4.5.3.1.5), a reply at most kMaxReplyLines lines. A line that breaks
// the grammar (code not three digits with the first 2-5, a separator other
// than ' ' or '-', a NUL byte, a continuation whose code differs) or a limit
// makes the parser fail for good: the connection is not to be trusted after
// that.
#ifndef RELAY_SMTP_SMTP_REPLY_H_
#define RELAY_SMTP_SMTP_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

inline constexpr size_t kMaxReplyLine = 512;
inline constexpr size_t kMaxReplyLines = 100;

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // the text of each line, after "NNN-"/"NNN "
  // The enhanced status code ("5.1.1") when the server sends one, else "".
  std::string enhanced;

  bool positive() const { return code >= 200 && code < 400; }
  bool temporary() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // Enhanced code, or one derived from the basic code ("4.0.0").
  std::string dsn() const;
  // "550 5.1.1 user unknown" on one line, made printable, for logs and
  // bounces; later lines are joined with " / ".
  std::string Text() const;
};

class ReplyParser {
 public:
  enum class Result { kNeedMore, kReply, kError };

  void Feed(std::string_view data) { buf_.append(data); }
  // Takes the next complete reply from the bytes fed so far.
  Result Next(Reply* reply, std::string* error);
  // Bytes fed but not yet consumed by a complete reply. After the reply to
  // STARTTLS this must be zero, or the server (or a man in the middle) has
  // sent plaintext meant to be read as if it came over TLS.
  size_t buffered() const { return buf_.size() - pos_; }
  void Clear() {
    buf_.clear();
    pos_ = 0;
    cur_ = Reply();
  }

 private:
  std::string buf_;
  size_t pos_ = 0;  // start of the first unconsumed line in buf_
  Reply cur_;       // lines of a multi-line reply seen so far
  bool failed_ = false;
};

struct Capabilities {
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool enhanced_status = false;
  bool size_advertised = false;
  uint64_t size_limit = 0;  // 0: none given
  std::vector<std::string> auth;  // mechanisms, upper case
};

// Reads the capabilities from a positive EHLO reply (lines after the first).
Capabilities ParseEhlo(const Reply& reply);

}  // namespace relay

#endif  // RELAY_SMTP_SMTP_REPLY_H_
