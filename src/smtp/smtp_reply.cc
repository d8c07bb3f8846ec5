#include "relay/smtp/smtp_reply.h"

#include <charconv>

#include "relay/base/strings.h"

namespace relay {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "5.1.1 text" -> "5.1.1" when the class matches the reply code.
std::string EnhancedCode(std::string_view text, int code) {
  size_t i = 0;
  auto digits = [&](size_t max) {
    size_t n = 0;
    while (i < text.size() && IsDigit(text[i]) && n < max) ++i, ++n;
    return n > 0;
  };
  if (text.empty() || text[0] - '0' != code / 100) return "";
  if (!digits(1) || i >= text.size() || text[i++] != '.') return "";
  if (!digits(3) || i >= text.size() || text[i++] != '.') return "";
  if (!digits(3)) return "";
  if (i < text.size() && text[i] != ' ') return "";
  return std::string(text.substr(0, i));
}

}  // namespace

std::string Reply::dsn() const {
  if (!enhanced.empty()) return enhanced;
  return std::to_string(code / 100) + ".0.0";
}

std::string Reply::Text() const {
  std::string out = std::to_string(code);
  for (size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? " " : " / ";
    out += lines[i];
  }
  return Printable(out);
}

ReplyParser::Result ReplyParser::Next(Reply* reply, std::string* error) {
  if (failed_) {
    *error = "protocol error earlier on this connection";
    return Result::kError;
  }
  auto fail = [&](std::string why) {
    failed_ = true;
    *error = std::move(why);
    return Result::kError;
  };
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (buf_.size() - pos_ > kMaxReplyLine) return fail("reply line longer than 512 octets");
      // Compact: keep only the unconsumed tail.
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      return Result::kNeedMore;
    }
    if (nl + 1 - pos_ > kMaxReplyLine) return fail("reply line longer than 512 octets");
    std::string_view line(buf_.data() + pos_, nl - pos_);
    pos_ = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) return fail("NUL byte in reply");
    if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2]) ||
        line[0] < '2' || line[0] > '5')
      return fail("malformed reply '" + Printable(line.substr(0, 40)) + "'");
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-')
      return fail("malformed reply '" + Printable(line.substr(0, 40)) + "'");
    if (!cur_.lines.empty() && code != cur_.code) return fail("mixed codes in a multi-line reply");
    if (cur_.lines.size() >= kMaxReplyLines) return fail("reply with more than 100 lines");
    cur_.code = code;
    cur_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (sep == ' ') {
      cur_.enhanced = EnhancedCode(cur_.lines.front(), code);
      *reply = std::move(cur_);
      cur_ = Reply();
      return Result::kReply;
    }
  }
}

Capabilities ParseEhlo(const Reply& reply) {
  Capabilities c;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line = ToLower(Trim(reply.lines[i]));
    std::string_view kw = line;
    std::string_view args;
    size_t sp = line.find_first_of(" =");
    if (sp != std::string::npos) {
      kw = std::string_view(line).substr(0, sp);
      args = Trim(std::string_view(line).substr(sp + 1));
    }
    if (kw == "pipelining") c.pipelining = true;
    else if (kw == "starttls") c.starttls = true;
    else if (kw == "8bitmime") c.eightbitmime = true;
    else if (kw == "smtputf8") c.smtputf8 = true;
    else if (kw == "dsn") c.dsn = true;
    else if (kw == "enhancedstatuscodes") c.enhanced_status = true;
    else if (kw == "size") {
      c.size_advertised = true;
      uint64_t v = 0;
      if (!args.empty() && std::from_chars(args.data(), args.data() + args.size(), v).ec == std::errc())
        c.size_limit = v;
    } else if (kw == "auth") {
      for (std::string_view m : Split(args, ' ')) {
        if (m.empty()) continue;
        std::string up(m);
        for (char& ch : up) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
        bool dup = false;
        for (const std::string& have : c.auth) dup |= have == up;
        if (!dup) c.auth.push_back(up);
      }
    }
  }
  return c;
}

}  // namespace relay
