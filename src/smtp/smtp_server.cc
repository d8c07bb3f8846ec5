#include "relay/smtp/smtp_server.h"

#include <arpa/inet.h>

#include <optional>

#include "relay/message/address.h"
#include "relay/smtp/sasl.h"
#include "relay/base/strings.h"

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

// A MAIL or RCPT parameter: KEY (upper case) and the text after "=".
struct Param {
  std::string key;
  std::string value;
};

// The address and parameters of a MAIL or RCPT command.
struct PathCommand {
  std::string path;
  std::vector<Param> params;
};

// "FROM:<addr> PARAMS" (case-insensitive keyword, optional space after the
// colon as many clients send) -> addr and the parameter words. The path
// is kept as written: ParseSmtpPath checks and drops a source route.
std::optional<PathCommand> ParsePathCommand(std::string_view args, std::string_view keyword) {
  if (!StartsWithIgnoreCase(args, keyword)) return std::nullopt;
  args.remove_prefix(keyword.size());
  args = Trim(args);
  if (args.empty() || args[0] != '<') return std::nullopt;
  size_t close = args.find('>');
  if (close == std::string_view::npos) return std::nullopt;
  PathCommand cmd;
  cmd.path = std::string(args.substr(1, close - 1));
  for (std::string_view w : Split(Trim(args.substr(close + 1)), ' ')) {
    if (w.empty()) continue;
    size_t eq = w.find('=');
    cmd.params.push_back({Upper(w.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(w.substr(eq + 1))});
  }
  return cmd;
}

// The refusal of an address ParseEnvelopePath rejected: it names the
// address (printable, cut short) and what is wrong with it.
std::string BadAddress(const char* reply, const std::string& path, const Status& s) {
  return std::string(reply) + " <" + Printable(path.substr(0, 100)) + ">: " + s.message() + "\r\n";
}

// An address that fits until the injector qualifies it would fail the
// whole message at the final dot, so it is refused at its command: the
// sender as Injector::Start qualifies it (no "@": "@domain" added), a
// recipient as the aliases do an unaliased one (no domain, or a local
// name: the domain put in its place). Pure: only the length is checked.
Status CheckQualifiedLength(const std::string& addr, bool recipient, const LocalPolicy& local) {
  if (local.domain.empty()) return Status::Ok();
  static const Aliases kNoAliases;
  std::vector<std::string> qualified;
  if (recipient) qualified = kNoAliases.Expand(addr, local);
  else qualified.push_back(Qualified(addr, local.domain));
  for (const std::string& q : qualified)
    if (q.size() > kMaxAddressLength)
      return Status::Usage("address longer than " + std::to_string(kMaxAddressLength) +
                           " characters once qualified as ...@" + Printable(local.domain));
  return Status::Ok();
}

// ENVID (RFC 3461 4.4): xtext that decodes to printable ASCII. Refused at
// MAIL, not after the data, because it must fit an envelope record.
bool ParseEnvid(const std::string& value, std::string* envid) {
  std::string decoded = ValidXText(value) ? XTextDecode(value) : "";
  bool printable = !decoded.empty();
  for (char c : decoded) printable &= c >= 0x21 && c <= 0x7e;
  if (!printable || value.size() > 100) return false;
  *envid = decoded;
  return true;
}

// NOTIFY (RFC 3461 4.1): NEVER alone, or a list of SUCCESS, FAILURE, DELAY.
bool ValidNotify(const std::string& n) {
  bool ok = !n.empty();
  for (std::string_view item : Split(n, ','))
    ok &= item == "NEVER" ? n == "NEVER" : (item == "SUCCESS" || item == "FAILURE" || item == "DELAY");
  return ok;
}

// ORCPT (RFC 3461 4.2): "type;xtext". False when malformed; *orcpt is set
// only for an rfc822 address that fits a queue-file record, since only
// that is passed on and named in a DSN; other types are dropped.
bool ParseOrcpt(const std::string& value, std::string* orcpt) {
  size_t semi = value.find(';');
  if (semi == std::string::npos || !ValidXText(value.substr(semi + 1)) || value.size() > 500) return false;
  std::string decoded = XTextDecode(value.substr(semi + 1));
  bool printable = !decoded.empty();
  for (char c : decoded) printable &= static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  if (EqualsIgnoreCase(value.substr(0, semi), "rfc822") && printable) *orcpt = decoded;
  return true;
}

// One RCPT parameter (RFC 3461 NOTIFY and ORCPT); false when it is
// refused, with the reply in *out.
bool RcptParam(const Param& prm, std::string* notify, std::string* orcpt, std::string* out) {
  if (prm.key == "NOTIFY") {
    std::string n = Upper(prm.value);
    if (!ValidNotify(n)) {
      *out += "501 5.5.4 bad NOTIFY parameter\r\n";
      return false;
    }
    *notify = n;
  } else if (prm.key == "ORCPT") {
    if (!ParseOrcpt(prm.value, orcpt)) {
      *out += "501 5.5.4 bad ORCPT parameter\r\n";
      return false;
    }
  } else {
    *out += "555 5.5.4 unsupported parameter " + Printable(prm.key) + "\r\n";
    return false;
  }
  return true;
}

// A message the backend could not take: 451 when it may work later, 554
// when it never will.
std::string StoreRefusal(const Status& s) {
  return (s.temporary() ? "451 4.3.0 " : "554 5.6.0 ") + Printable(s.message()) + "\r\n";
}

bool IsLetDig(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5321 4.1.2 Domain: sub-domain *("." sub-domain), each a Let-dig,
// then Ldh-str (no hyphen at the end).
bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  for (std::string_view label : Split(d, '.')) {
    if (label.empty() || label.size() > 63 || !IsLetDig(label.front()) || !IsLetDig(label.back()))
      return false;
    for (char c : label)
      if (!IsLetDig(c) && c != '-') return false;
  }
  return true;
}

// RFC 5321 4.1.3 address literals, brackets included.
bool ValidAddressLiteral(std::string_view lit) {
  if (lit.size() < 3 || lit.front() != '[' || lit.back() != ']') return false;
  std::string inner(lit.substr(1, lit.size() - 2));
  unsigned char addr[16];
  if (inet_pton(AF_INET, inner.c_str(), addr) == 1) return true;
  if (StartsWithIgnoreCase(inner, "IPv6:")) return inet_pton(AF_INET6, inner.c_str() + 5, addr) == 1;
  // General-address-literal: Standardized-tag ":" 1*dcontent; dcontent
  // without the parentheses that could fake a comment.
  size_t colon = inner.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == inner.size()) return false;
  std::string_view tag = std::string_view(inner).substr(0, colon);
  if (!IsLetDig(tag.front()) || !IsLetDig(tag.back())) return false;
  for (char c : tag)
    if (!IsLetDig(c) && c != '-') return false;
  for (char c : std::string_view(inner).substr(colon + 1))
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']' || c == '(' || c == ')') return false;
  return true;
}

}  // namespace

bool ValidHeloArgument(std::string_view arg) {
  return !arg.empty() && arg.size() <= 255 && (arg.front() == '[' ? ValidAddressLiteral(arg) : ValidDomain(arg));
}

SmtpServer::SmtpServer(ServerParams params, ServerBackend* backend, ServerAuthenticator* auth)
    : p_(std::move(params)), backend_(backend), auth_(auth) {}

std::string SmtpServer::Greeting() const { return "220 " + p_.hostname + " ESMTP relay\r\n"; }

void SmtpServer::Reset() {
  if (state_ == State::kData || state_ == State::kDataDiscard) backend_->Abort();
  state_ = State::kCommand;
  in_mail_ = false;
  NewTransaction();
}

void SmtpServer::NewTransaction() {
  // The HELO name holds for the session, not for one message.
  std::string helo = t_.helo;
  t_ = MailTransaction();
  t_.helo = helo;
}

void SmtpServer::Disconnected() {
  if (state_ == State::kData || state_ == State::kDataDiscard) backend_->Abort();
  state_ = State::kCommand;
  closed_ = true;
}

std::string SmtpServer::Feed(std::string_view data) {
  std::string out;
  buf_.append(data);
  size_t pos = 0;
  while (!closed_ && !tls_requested_) {
    bool command = state_ == State::kCommand || state_ == State::kAuth;
    size_t nl = buf_.find('\n', pos);
    if (command && skip_line_) {
      // The rest of a line already refused as too long: dropped up to its
      // end, never read as a command of its own.
      pos = nl == std::string::npos ? buf_.size() : nl + 1;
      if (nl == std::string::npos) break;
      skip_line_ = false;
      continue;
    }
    if (command && (nl == std::string::npos ? buf_.size() : nl) - pos > kMaxCommandLine) {
      // A command line that does not end is refused, not buffered forever.
      state_ = State::kCommand;
      Reply("500 5.5.0 line too long\r\n", &out);
      skip_line_ = nl == std::string::npos;
      pos = nl == std::string::npos ? buf_.size() : nl + 1;
      continue;
    }
    if (nl == std::string::npos) {
      if (!command) pos = LongDataPiece(pos, &out);
      break;
    }
    std::string_view line(buf_.data() + pos, nl - pos);
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    pos = nl + 1;
    size_t before = out.size();
    if (state_ == State::kCommand) Command(line, &out);
    else if (state_ == State::kAuth) AuthResponse(line, &out);
    else DataLine(line, crlf, &out);
    prev_crlf_ = crlf;
    CountErrors(out, before);
    if (data_refused_) RefusedDataPipelining(pos < buf_.size(), &out);
    // Out of DATA again: the final dot was just answered.
    if (flush_ && !command && state_ == State::kCommand) {
      if (!flush_(out)) {
        Disconnected();
        break;
      }
      out.clear();
    }
  }
  // After STARTTLS, what the client pipelined behind it was sent in the
  // clear: it is dropped, never read as if it came under TLS.
  if (tls_requested_) pos = buf_.size();
  buf_.erase(0, pos);
  return out;
}

size_t SmtpServer::LongDataPiece(size_t pos, std::string* out) {
  if (buf_.size() - pos <= 65536) return pos;
  // A very long line in DATA: passed on in pieces (the injector breaks it
  // at 998 octets), so memory stays bounded. A CR at the end is kept back:
  // its LF may come in the next read, and that CR LF must end the line, or
  // the "." line behind it is not seen as the end.
  size_t end = buf_.back() == '\r' ? buf_.size() - 1 : buf_.size();
  DataPiece(std::string_view(buf_).substr(pos, end - pos), out);
  return end;
}

void SmtpServer::RefusedDataPipelining(bool input_behind, std::string* out) {
  data_refused_ = false;
  if (!input_behind || closed_) return;
  // RFC 2920 3.1: DATA ends a pipelined group, so a client must wait for
  // its reply. What came behind a refused DATA was meant as the message:
  // read as commands it could be a whole transaction smuggled in a form's
  // text. It is dropped, and the session ends (as Postfix's
  // smtpd_forbid_unauth_pipelining).
  *out += "421 4.5.0 " + p_.hostname + " improper pipelining after a refused DATA; closing\r\n";
  Disconnected();
}

void SmtpServer::Reply(const char* text, std::string* out) {
  size_t before = out->size();
  *out += text;
  CountErrors(*out, before);
}

void SmtpServer::CountErrors(std::string& out, size_t from) {
  if (closed_ || from >= out.size() || (out[from] != '4' && out[from] != '5')) return;
  if (++errors_ < p_.max_errors) return;
  out += "421 4.7.0 " + p_.hostname + " too many errors; closing\r\n";
  Disconnected();
}

void SmtpServer::DataLine(std::string_view line, bool crlf, std::string* out) {
  // The end of the data. Only CR LF "." CR LF: see the header.
  if (line == "." && crlf && prev_crlf_ && at_line_start_) return EndOfData(out);
  std::string l(line);
  l += "\r\n";  // a bare LF becomes CRLF
  DataPiece(l, out);
}

void SmtpServer::EndOfData(std::string* out) {
  bool discard = state_ == State::kDataDiscard;
  state_ = State::kCommand;
  in_mail_ = false;
  if (discard) {
    // Refused on the way (too large, or the backend failed): said only
    // now, as the client reads no reply before the dot.
    backend_->Abort();
    *out += data_error_.kind() == Status::Kind::kDataErr && data_error_.message().find("size") != std::string::npos
                ? "552 5.3.4 message size exceeds the limit\r\n"
                : StoreRefusal(data_error_);
  } else {
    std::string id;
    Status s = backend_->End(&id);
    if (s.ok()) {
      ++accepted_;
      *out += "250 2.0.0 Ok: queued as " + id + "\r\n";
    } else {
      backend_->Abort();
      *out += StoreRefusal(s);
    }
  }
  NewTransaction();
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
  if (verb == "EHLO" || verb == "HELO") return Hello(verb, args, out);
  if (verb == "MAIL") return Mail(args, out);
  if (verb == "RCPT") return Rcpt(args, out);
  if (verb == "DATA") return DataCommand(args, out);
  if (verb == "QUIT") {
    *out += "221 2.0.0 Bye\r\n";
    Reset();
    closed_ = true;
    return;
  }
  // Everything else moves no message on: a client that sends only these
  // is held to max_junk_commands.
  if (TooMuchJunk(out)) return;
  if (verb == "STARTTLS" && p_.offer_starttls) {
    StartTls(args, out);
  } else if (verb == "AUTH" && auth_) {
    Auth(args, out);
  } else if (verb == "RSET") {
    Reset();
    *out += "250 2.0.0 Ok\r\n";
  } else if (verb == "NOOP") {
    *out += "250 2.0.0 Ok\r\n";
  } else if (verb == "VRFY") {
    *out += "252 2.0.0 Cannot VRFY, but will accept and attempt delivery\r\n";
  } else {
    *out += "502 5.5.2 command not recognized\r\n";
  }
}

bool SmtpServer::TooMuchJunk(std::string* out) {
  // Inside a transaction the client is sending mail: nothing is counted.
  if (in_mail_ || ++junk_ <= p_.max_junk_commands) return false;
  *out += "421 4.7.0 " + p_.hostname + " too many commands without mail; closing\r\n";
  closed_ = true;
  return true;
}

void SmtpServer::Hello(const std::string& verb, std::string_view args, std::string* out) {
  if (args.empty()) {
    *out += "501 5.5.4 " + verb + " needs a host name\r\n";
    return;
  }
  Reset();
  // Only a domain or an address literal may go into Received.
  bool valid = ValidHeloArgument(args);
  t_.helo = valid ? std::string(args) : "";
  if (!valid) ignored_helo_ = Printable(std::string(args.substr(0, 255)));
  have_helo_ = true;
  if (verb == "HELO") {
    *out += "250 " + p_.hostname + "\r\n";
    return;
  }
  out->append("250-").append(p_.hostname).append("\r\n250-PIPELINING\r\n250-SIZE");
  if (p_.size_limit) out->append(" ").append(std::to_string(p_.size_limit));
  out->append("\r\n");
  // STARTTLS once, and AUTH only under TLS: see the header.
  if (p_.offer_starttls && !tls_active_) out->append("250-STARTTLS\r\n");
  if (auth_offered()) out->append("250-AUTH PLAIN LOGIN\r\n");
  out->append("250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 DSN\r\n");
}

void SmtpServer::DataCommand(std::string_view args, std::string* out) {
  // A refused DATA ends the transaction as RSET would: the client starts
  // again from MAIL, and nothing it pipelined behind is read (Feed).
  data_refused_ = true;
  if (!args.empty()) {
    *out += "501 5.5.4 DATA takes no argument\r\n";
    Reset();
  } else if (!in_mail_) {
    *out += "503 5.5.1 need MAIL command\r\n";
  } else if (t_.recipients.empty()) {
    *out += "554 5.5.1 no valid recipients\r\n";
    Reset();
  } else if (Status s = backend_->Begin(t_); !s.ok()) {
    // Nothing can be stored: the client starts again from MAIL.
    *out += StoreRefusal(s);
    Reset();
  } else {
    data_refused_ = false;
    data_bytes_ = 0;
    at_line_start_ = true;
    data_error_ = Status::Ok();
    state_ = State::kData;
    *out += "354 End data with <CR><LF>.<CR><LF>\r\n";
  }
}

const char* SmtpServer::MailRefusal() const {
  if (!have_helo_) return "503 5.5.1 send HELO/EHLO first\r\n";
  if (in_mail_) return "503 5.5.1 nested MAIL command\r\n";
  // Beyond loopback the client must be known before it may send mail.
  if (p_.require_auth && !tls_active_) return "530 5.7.0 Must issue a STARTTLS command first\r\n";
  if (p_.require_auth && auth_user_.empty()) return "530 5.7.0 Authentication required\r\n";
  return nullptr;
}

void SmtpServer::Mail(std::string_view args, std::string* out) {
  if (const char* refusal = MailRefusal()) {
    *out += refusal;
    return;
  }
  std::optional<PathCommand> cmd = ParsePathCommand(args, "FROM:");
  if (!cmd) {
    *out += "501 5.5.4 syntax: MAIL FROM:<address>\r\n";
    return;
  }
  // <> is the null sender of bounces and stays empty; <@a:> is not <>.
  std::string sender;
  Status s = ParseSmtpPath(cmd->path, &sender);
  if (s.ok() && !sender.empty()) s = CheckQualifiedLength(sender, /*recipient=*/false, p_.local);
  if (!s.ok()) {
    *out += BadAddress("501 5.1.7 bad sender address", cmd->path, s);
    return;
  }
  for (const Param& prm : cmd->params)
    if (!MailParam(prm.key, prm.value, out)) return;
  t_.sender = sender;
  t_.tls = tls_active_;
  t_.auth_user = auth_user_;
  in_mail_ = true;
  *out += "250 2.1.0 Ok\r\n";
}

bool SmtpServer::MailParam(const std::string& key, const std::string& val, std::string* out) {
  if (key == "SIZE") {
    // RFC 1870: a message declared too large is refused before its data.
    uint64_t n = std::strtoull(val.c_str(), nullptr, 10);
    if (p_.size_limit && n > p_.size_limit) {
      *out += "552 5.3.4 message size exceeds the limit\r\n";
      return false;
    }
  } else if (key == "BODY") {
    std::string b = Upper(val);
    if (b != "7BIT" && b != "8BITMIME") {
      *out += "501 5.5.4 bad BODY parameter\r\n";
      return false;
    }
    t_.body = b;
  } else if (key == "RET") {
    std::string r = Upper(val);
    if (r != "FULL" && r != "HDRS") {
      *out += "501 5.5.4 bad RET parameter\r\n";
      return false;
    }
    t_.ret = r;
  } else if (key == "ENVID") {
    if (!ParseEnvid(val, &t_.envid)) {
      *out += "501 5.5.4 bad ENVID parameter\r\n";
      return false;
    }
  } else if (key != "SMTPUTF8" && key != "AUTH") {
    // SMTPUTF8 needs nothing more from relay; AUTH= (RFC 4954 5) is ignored.
    *out += "555 5.5.4 unsupported parameter " + Printable(key) + "\r\n";
    return false;
  }
  return true;
}

void SmtpServer::Rcpt(std::string_view args, std::string* out) {
  if (!in_mail_) {
    *out += "503 5.5.1 need MAIL command\r\n";
    return;
  }
  std::optional<PathCommand> cmd = ParsePathCommand(args, "TO:");
  if (!cmd) {
    *out += "501 5.5.4 syntax: RCPT TO:<address>\r\n";
    return;
  }
  if (cmd->path.empty()) {
    *out += "553 5.1.3 bad recipient address: <> is no recipient\r\n";
    return;
  }
  std::string rcpt;
  Status bad = ParseSmtpPath(cmd->path, &rcpt);
  if (bad.ok()) bad = CheckQualifiedLength(rcpt, /*recipient=*/true, p_.local);
  if (!bad.ok()) {
    *out += BadAddress("501 5.1.3 bad recipient address", cmd->path, bad);
    return;
  }
  if (t_.recipients.size() >= p_.max_recipients) {
    *out += "452 4.5.3 too many recipients\r\n";
    return;
  }
  std::string orcpt, notify;
  for (const Param& prm : cmd->params)
    if (!RcptParam(prm, &notify, &orcpt, out)) return;
  t_.recipients.push_back(rcpt);
  t_.orcpts.push_back(orcpt);
  t_.notifies.push_back(notify);
  *out += "250 2.1.5 Ok\r\n";
}

void SmtpServer::StartTls(std::string_view args, std::string* out) {
  if (tls_active_) {
    *out += "554 5.5.1 TLS already active\r\n";
  } else if (!args.empty()) {
    *out += "501 5.5.4 syntax: STARTTLS\r\n";
  } else {
    Reset();
    *out += "220 2.0.0 Ready to start TLS\r\n";
    tls_requested_ = true;
  }
}

void SmtpServer::TlsStarted(const std::string& cert_user) {
  tls_requested_ = false;
  tls_active_ = true;
  // RFC 3207 4.2: the client starts again from EHLO, knowing nothing.
  have_helo_ = false;
  Reset();
  t_.helo.clear();
  buf_.clear();
  if (!cert_user.empty()) auth_user_ = Printable(cert_user.substr(0, 255));
}

void SmtpServer::Auth(std::string_view args, std::string* out) {
  if (!auth_offered()) {
    *out += "538 5.7.11 Encryption required for requested authentication mechanism\r\n";
    return;
  }
  if (!have_helo_) {
    *out += "503 5.5.1 send EHLO first\r\n";
    return;
  }
  if (!auth_user_.empty()) {
    *out += "503 5.5.1 already authenticated\r\n";
    return;
  }
  if (in_mail_) {
    *out += "503 5.5.1 MAIL transaction in progress\r\n";
    return;
  }
  std::string_view mech_text = args.substr(0, args.find(' '));
  std::string mech = Upper(mech_text);
  std::string_view initial = mech_text.size() < args.size() ? Trim(args.substr(mech_text.size())) : "";
  if (mech != "PLAIN" && mech != "LOGIN") {
    *out += "504 5.5.4 unrecognized authentication type\r\n";
    return;
  }
  auth_mech_ = mech;
  auth_login_user_.clear();
  state_ = State::kAuth;
  if (initial.empty()) {
    *out += mech == "PLAIN" ? "334 \r\n" : "334 VXNlcm5hbWU6\r\n";  // "Username:"
    return;
  }
  // RFC 4954 4: "=" is an empty initial response.
  AuthResponse(initial == "=" ? std::string_view() : initial, out);
}

void SmtpServer::AuthResponse(std::string_view line, std::string* out) {
  if (line == "*") {
    state_ = State::kCommand;
    *out += "501 5.7.0 authentication aborted\r\n";
    return;
  }
  std::string decoded;
  if (!Base64Decode(line, &decoded)) {
    state_ = State::kCommand;
    *out += "501 5.5.2 cannot decode the response\r\n";
    return;
  }
  if (auth_mech_ == "LOGIN" && auth_login_user_.empty()) {
    if (decoded.empty()) decoded = std::string(1, '\0');  // never a valid user
    auth_login_user_ = decoded;
    *out += "334 UGFzc3dvcmQ6\r\n";  // "Password:"
    return;
  }
  if (auth_mech_ == "LOGIN") return AuthDone("", auth_login_user_, decoded, out);
  // PLAIN (RFC 4616): authzid NUL authcid NUL passwd.
  size_t a = decoded.find('\0');
  size_t b = a == std::string::npos ? a : decoded.find('\0', a + 1);
  if (b == std::string::npos || decoded.find('\0', b + 1) != std::string::npos)
    return AuthDone("", std::string(1, '\0'), "", out);
  AuthDone(decoded.substr(0, a), decoded.substr(a + 1, b - a - 1), decoded.substr(b + 1), out);
}

void SmtpServer::AuthDone(const std::string& authzid, const std::string& user, const std::string& pass,
                          std::string* out) {
  state_ = State::kCommand;
  // A NUL would end the password early for crypt(3): "pw\0x" is not "pw".
  bool valid = !user.empty() && user.find('\0') == std::string::npos && user.size() <= 255 &&
               pass.find('\0') == std::string::npos;
  // Acting as another user (a different authzid) is not offered.
  if (valid && (authzid.empty() || authzid == user) && auth_->Check(user, pass)) {
    auth_user_ = user;
    *out += "235 2.7.0 Authentication successful\r\n";
    return;
  }
  last_auth_failure_ = Printable(user.substr(0, 64));
  *out += "535 5.7.8 authentication credentials invalid\r\n";
  if (++auth_failures_ >= p_.max_auth_failures) {
    *out += "421 4.7.0 " + p_.hostname + " too many authentication failures; closing\r\n";
    closed_ = true;
  }
}

}  // namespace relay
