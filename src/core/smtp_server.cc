#include "relay/smtp_server.h"

#include "relay/address.h"
#include "relay/strings.h"

namespace relay {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

// xtext (RFC 3461 4) decoding: "+HH" -> byte.
std::string XTextDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsHex2(std::string_view s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return s.size() == 2 && hex(s[0]) && hex(s[1]);
}

bool ValidXText(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '+') {
      if (!IsHex2(s.substr(i + 1, 2))) return false;
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

// "FROM:<addr> PARAMS" (case-insensitive keyword, optional space after the
// colon as many clients send) -> addr and the parameter words.
bool PathAndParams(std::string_view args, std::string_view keyword, std::string* path,
                   std::vector<std::string>* params) {
  if (!StartsWithIgnoreCase(args, keyword)) return false;
  args.remove_prefix(keyword.size());
  args = Trim(args);
  if (args.empty() || args[0] != '<') return false;
  size_t close = args.find('>');
  if (close == std::string_view::npos) return false;
  *path = std::string(args.substr(1, close - 1));
  for (std::string_view w : Split(Trim(args.substr(close + 1)), ' '))
    if (!w.empty()) params->emplace_back(w);
  return true;
}

}  // namespace

SmtpServer::SmtpServer(ServerParams params, ServerBackend* backend)
    : p_(std::move(params)), backend_(backend) {}

std::string SmtpServer::Greeting() const { return "220 " + p_.hostname + " ESMTP relay\r\n"; }

void SmtpServer::Reset() {
  if (state_ != State::kCommand) backend_->Abort();
  state_ = State::kCommand;
  in_mail_ = false;
  std::string helo = t_.helo;
  t_ = MailTransaction();
  t_.helo = helo;
}

void SmtpServer::Disconnected() {
  if (state_ != State::kCommand) backend_->Abort();
  state_ = State::kCommand;
  closed_ = true;
}

std::string SmtpServer::Feed(std::string_view data) {
  std::string out;
  buf_.append(data);
  size_t pos = 0;
  while (!closed_) {
    size_t nl = buf_.find('\n', pos);
    if (nl == std::string::npos) {
      // A command line that does not end is refused, not buffered forever;
      // in DATA, a long line goes on in pieces.
      if (state_ == State::kCommand && buf_.size() - pos > kMaxCommandLine) {
        out += "500 5.5.0 line too long\r\n";
        pos = buf_.size();
      } else if (state_ != State::kCommand && buf_.size() - pos > 65536) {
        // A very long line: pass it on in pieces (the injector breaks it
        // at 998 octets), so memory stays bounded.
        DataPiece(std::string_view(buf_).substr(pos), &out);
        pos = buf_.size();
      }
      break;
    }
    std::string_view line(buf_.data() + pos, nl - pos);
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    pos = nl + 1;
    if (state_ == State::kCommand) Command(line, &out);
    else DataLine(line, crlf, &out);
  }
  buf_.erase(0, pos);
  return out;
}

void SmtpServer::DataLine(std::string_view line, bool crlf, std::string* out) {
  if (line == "." && crlf && at_line_start_) {
    // The end of the data. Only CR LF "." CR LF: see the header.
    bool discard = state_ == State::kDataDiscard;
    state_ = State::kCommand;
    in_mail_ = false;
    if (discard) {
      backend_->Abort();
      *out += data_error_.kind() == Status::Kind::kDataErr && data_error_.message().find("size") != std::string::npos
                  ? "552 5.3.4 message size exceeds the limit\r\n"
                  : (data_error_.temporary() ? "451 4.3.0 " : "554 5.6.0 ") + Printable(data_error_.message()) + "\r\n";
    } else {
      std::string id;
      Status s = backend_->End(&id);
      if (s.ok()) {
        ++accepted_;
        *out += "250 2.0.0 Ok: queued as " + id + "\r\n";
      } else {
        backend_->Abort();
        *out += (s.temporary() ? "451 4.3.0 " : "554 5.6.0 ") + Printable(s.message()) + "\r\n";
      }
    }
    std::string helo = t_.helo;
    t_ = MailTransaction();
    t_.helo = helo;
    return;
  }
  std::string l(line);
  l += "\r\n";  // a bare LF becomes CRLF
  DataPiece(l, out);
}

void SmtpServer::DataPiece(std::string_view piece, std::string* out) {
  bool line_start = at_line_start_;
  at_line_start_ = !piece.empty() && piece.back() == '\n';
  if (state_ == State::kDataDiscard) return;
  if (line_start && !piece.empty() && piece[0] == '.') piece.remove_prefix(1);  // dot-unstuffing
  data_bytes_ += piece.size();
  Status s = p_.size_limit && data_bytes_ > p_.size_limit
                 ? Status::DataErr("message size exceeds the limit")
                 : backend_->Data(piece);
  if (!s.ok()) {
    data_error_ = s;
    state_ = State::kDataDiscard;  // read on to the dot, then refuse
  }
}

void SmtpServer::Command(std::string_view line, std::string* out) {
  std::string_view verb_text = line.substr(0, line.find(' '));
  std::string verb = Upper(verb_text);
  std::string_view args = verb_text.size() < line.size() ? Trim(line.substr(verb_text.size())) : "";
  auto junk = [&] {
    if (!in_mail_ && ++junk_ > p_.max_junk_commands) {
      *out += "421 4.7.0 " + p_.hostname + " too many commands without mail; closing\r\n";
      closed_ = true;
      return true;
    }
    return false;
  };
  if (verb == "EHLO" || verb == "HELO") {
    if (args.empty()) {
      *out += "501 5.5.4 " + verb + " needs a host name\r\n";
      return;
    }
    Reset();
    t_.helo = Printable(std::string(args.substr(0, 255)));
    have_helo_ = true;
    if (verb == "HELO") {
      *out += "250 " + p_.hostname + "\r\n";
      return;
    }
    *out += "250-" + p_.hostname + "\r\n250-PIPELINING\r\n250-SIZE" +
            (p_.size_limit ? " " + std::to_string(p_.size_limit) : "") +
            "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 DSN\r\n";
  } else if (verb == "MAIL") {
    Mail(args, out);
  } else if (verb == "RCPT") {
    Rcpt(args, out);
  } else if (verb == "DATA") {
    if (!args.empty()) *out += "501 5.5.4 DATA takes no argument\r\n";
    else if (!in_mail_) *out += "503 5.5.1 need MAIL command\r\n";
    else if (t_.recipients.empty()) *out += "554 5.5.1 no valid recipients\r\n";
    else {
      Status s = backend_->Begin(t_);
      if (!s.ok()) {
        *out += (s.temporary() ? "451 4.3.0 " : "554 5.6.0 ") + Printable(s.message()) + "\r\n";
        Reset();
        return;
      }
      data_bytes_ = 0;
      at_line_start_ = true;
      data_error_ = Status::Ok();
      state_ = State::kData;
      *out += "354 End data with <CR><LF>.<CR><LF>\r\n";
    }
  } else if (verb == "RSET") {
    if (junk()) return;
    Reset();
    *out += "250 2.0.0 Ok\r\n";
  } else if (verb == "NOOP") {
    if (junk()) return;
    *out += "250 2.0.0 Ok\r\n";
  } else if (verb == "VRFY") {
    if (junk()) return;
    *out += "252 2.0.0 Cannot VRFY, but will accept and attempt delivery\r\n";
  } else if (verb == "QUIT") {
    *out += "221 2.0.0 Bye\r\n";
    Reset();
    closed_ = true;
  } else {
    if (junk()) return;
    *out += "502 5.5.2 command not recognized\r\n";
  }
}

void SmtpServer::Mail(std::string_view args, std::string* out) {
  if (!have_helo_) {
    *out += "503 5.5.1 send HELO/EHLO first\r\n";
    return;
  }
  if (in_mail_) {
    *out += "503 5.5.1 nested MAIL command\r\n";
    return;
  }
  std::string path;
  std::vector<std::string> params;
  if (!PathAndParams(args, "FROM:", &path, &params)) {
    *out += "501 5.5.4 syntax: MAIL FROM:<address>\r\n";
    return;
  }
  if (!path.empty() && !CheckEnvelopeAddress(path).ok()) {
    *out += "553 5.1.7 bad sender address\r\n";
    return;
  }
  for (const std::string& prm : params) {
    std::string key = Upper(prm.substr(0, prm.find('=')));
    std::string val = prm.find('=') == std::string::npos ? "" : prm.substr(prm.find('=') + 1);
    if (key == "SIZE") {
      uint64_t n = std::strtoull(val.c_str(), nullptr, 10);
      if (p_.size_limit && n > p_.size_limit) {
        *out += "552 5.3.4 message size exceeds the limit\r\n";
        return;
      }
    } else if (key == "BODY") {
      std::string b = Upper(val);
      if (b != "7BIT" && b != "8BITMIME") {
        *out += "501 5.5.4 bad BODY parameter\r\n";
        return;
      }
      t_.body = b;
    } else if (key == "RET") {
      std::string r = Upper(val);
      if (r != "FULL" && r != "HDRS") {
        *out += "501 5.5.4 bad RET parameter\r\n";
        return;
      }
      t_.ret = r;
    } else if (key == "ENVID") {
      std::string envid = ValidXText(val) ? XTextDecode(val) : "";
      bool printable = !envid.empty();
      for (char c : envid) printable &= c >= 0x21 && c <= 0x7e;
      // Refused here, not after the data: it must fit an envelope record.
      if (!printable || val.size() > 100) {
        *out += "501 5.5.4 bad ENVID parameter\r\n";
        return;
      }
      t_.envid = envid;
    } else if (key != "SMTPUTF8" && key != "AUTH") {
      *out += "555 5.5.4 unsupported parameter " + Printable(key) + "\r\n";
      return;
    }
  }
  t_.sender = path;
  in_mail_ = true;
  *out += "250 2.1.0 Ok\r\n";
}

void SmtpServer::Rcpt(std::string_view args, std::string* out) {
  if (!in_mail_) {
    *out += "503 5.5.1 need MAIL command\r\n";
    return;
  }
  std::string path;
  std::vector<std::string> params;
  if (!PathAndParams(args, "TO:", &path, &params)) {
    *out += "501 5.5.4 syntax: RCPT TO:<address>\r\n";
    return;
  }
  // Source routes (<@a,@b:user@c>) are ignored, as RFC 5321 allows.
  if (!path.empty() && path[0] == '@' && path.find(':') != std::string::npos) path = path.substr(path.find(':') + 1);
  if (path.empty() || !CheckEnvelopeAddress(path).ok()) {
    *out += "553 5.1.3 bad recipient address\r\n";
    return;
  }
  if (t_.recipients.size() >= p_.max_recipients) {
    *out += "452 4.5.3 too many recipients\r\n";
    return;
  }
  std::string orcpt;
  for (const std::string& prm : params) {
    std::string key = Upper(prm.substr(0, prm.find('=')));
    std::string val = prm.find('=') == std::string::npos ? "" : prm.substr(prm.find('=') + 1);
    if (key == "NOTIFY") {
      std::string n = Upper(val);
      bool ok = !n.empty();
      for (std::string_view item : Split(n, ','))
        ok &= item == "NEVER" ? n == "NEVER" : (item == "SUCCESS" || item == "FAILURE" || item == "DELAY");
      if (!ok) {
        *out += "501 5.5.4 bad NOTIFY parameter\r\n";
        return;
      }
      if (t_.notify.empty()) t_.notify = n;
    } else if (key == "ORCPT") {
      size_t semi = val.find(';');
      if (semi != std::string::npos && ValidXText(val.substr(semi + 1)))
        orcpt = XTextDecode(val.substr(semi + 1));
    } else {
      *out += "555 5.5.4 unsupported parameter " + Printable(key) + "\r\n";
      return;
    }
  }
  t_.recipients.push_back(path);
  t_.orcpts.push_back(orcpt);
  *out += "250 2.1.5 Ok\r\n";
}

}  // namespace relay
