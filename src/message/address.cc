// RFC 5322 address-list parsing (section 3.4 with the obsolete syntax of
// section 4.4), done in two linear passes: a tokenizer that removes comments
// and whitespace, then a parser over the tokens that never backtracks past
// the start of the element it is in. Neither pass recurses, so hostile input
// (deeply nested comments, say) costs time proportional to its length and no
// stack.
#include "relay/message/address.h"

#include <arpa/inet.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relay {
namespace {

bool IsWhitespace(unsigned char c) {
  // CR and LF count as whitespace so that folded header values can be parsed
  // as they come, without unfolding them first.
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool IsSpecial(unsigned char c) {
  return std::string_view("()<>[]:;@\\,.\"").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// atext of RFC 5322, widened to every byte >= 0x80 so that SMTPUTF8
// addresses and raw 8-bit display names parse (RFC 6532 section 3.2).
bool IsAtext(unsigned char c) {
  return !IsControl(c) && c != ' ' && !IsSpecial(c);
}

enum class TokenKind {
  kAtom,     // a run of atext
  kQuoted,   // a quoted string, quotes included
  kLiteral,  // a domain literal, brackets included
  kSpecial,  // one of < > @ , : ; .
  kBad,      // anything that cannot start a token, or an unterminated one
  kEnd,      // sentinel after the last token
};

struct Token {
  TokenKind kind;
  size_t begin;
  size_t end;
  bool space_before;  // whitespace or a comment came before it
};

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  // Always ends with a kEnd token, so the parser can look at the current
  // token without checking bounds.
  std::vector<Token> Run() {
    std::vector<Token> tokens;
    bool space = false;
    size_t i = 0;
    while (i < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[i]);
      if (IsWhitespace(c)) {
        space = true;
        ++i;
        continue;
      }
      if (c == '(') {
        size_t end = SkipComment(i);
        if (end == std::string_view::npos) {
          // The rest of the input is an unterminated comment: one bad token,
          // so it makes one error, not one per byte.
          tokens.push_back({TokenKind::kBad, i, text_.size(), space});
          i = text_.size();
          break;
        }
        space = true;
        i = end;
        continue;
      }
      Token t{TokenKind::kBad, i, i + 1, space};
      space = false;
      if (c == '"' || c == '[') {
        size_t end = ScanDelimited(i, c == '"' ? '"' : ']');
        if (end == std::string_view::npos) {
          t.end = text_.size();
        } else {
          t.kind = c == '"' ? TokenKind::kQuoted : TokenKind::kLiteral;
          t.end = end;
        }
      } else if (std::string_view("<>@,:;.").find(static_cast<char>(c)) !=
                 std::string_view::npos) {
        t.kind = TokenKind::kSpecial;
      } else if (IsAtext(c)) {
        t.kind = TokenKind::kAtom;
        while (t.end < text_.size() &&
               IsAtext(static_cast<unsigned char>(text_[t.end]))) {
          ++t.end;
        }
      }
      // Otherwise kBad for one byte: ')' ']' '\' or a control character.
      tokens.push_back(t);
      i = t.end;
    }
    tokens.push_back({TokenKind::kEnd, text_.size(), text_.size(), space});
    return tokens;
  }

 private:
  // pos is at '('. Returns the offset just past the matching ')', or npos.
  // Nesting is tracked with a counter rather than recursion, so depth costs
  // nothing.
  size_t SkipComment(size_t pos) const {
    size_t depth = 0;
    for (size_t i = pos; i < text_.size(); ++i) {
      char c = text_[i];
      if (c == '\\') {
        ++i;  // quoted-pair: the next byte is literal, whatever it is
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }

  // pos is at the opening quote or bracket. Returns the offset just past
  // close, or npos when there is none.
  size_t ScanDelimited(size_t pos, char close) const {
    for (size_t i = pos + 1; i < text_.size(); ++i) {
      if (text_[i] == '\\') {
        ++i;
      } else if (text_[i] == close) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }

  std::string_view text_;
};

// Appends text without CR and LF: unfolding a quoted string or a literal
// that a header fold went through.
void AppendUnfolded(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c != '\r' && c != '\n') out->push_back(c);
  }
}

// Collapses every run of whitespace to one space and trims both ends.
std::string CollapseWhitespace(std::string_view text) {
  std::string out;
  bool pending = false;
  for (char c : text) {
    if (IsWhitespace(static_cast<unsigned char>(c))) {
      pending = !out.empty();
      continue;
    }
    if (pending) out.push_back(' ');
    pending = false;
    out.push_back(c);
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text)
      : text_(text), tokens_(Tokenizer(text).Run()) {}

  AddressList Run() {
    while (!AtEnd()) {
      if (AtSpecial(',')) {  // empty element: allowed by obs-addr-list
        ++pos_;
        continue;
      }
      size_t start = pos_;
      if (!ParseElement()) Recover(start, /*in_group=*/false);
    }
    return std::move(result_);
  }

 private:
  const Token& Current() const { return tokens_[pos_]; }
  bool AtEnd() const { return Current().kind == TokenKind::kEnd; }
  bool AtKind(TokenKind kind) const { return Current().kind == kind; }
  bool AtSpecial(char c) const {
    return AtKind(TokenKind::kSpecial) && text_[Current().begin] == c;
  }
  bool AtWord() const {
    return AtKind(TokenKind::kAtom) || AtKind(TokenKind::kQuoted);
  }
  // Inside a group, ';' closes the member list as well as ending a member.
  bool AtElementEnd(bool in_group) const {
    return AtEnd() || AtSpecial(',') || (in_group && AtSpecial(';'));
  }
  std::string_view TextOf(const Token& t) const {
    return text_.substr(t.begin, t.end - t.begin);
  }

  // Counts an error and skips to the end of the element, making sure the
  // loop that called us moves forward even if nothing was consumed.
  void Recover(size_t start, bool in_group) {
    ++result_.errors;
    while (!AtElementEnd(in_group)) ++pos_;
    if (pos_ == start && !AtEnd()) ++pos_;
    size_t begin = tokens_[start].begin;
    size_t end = pos_ > start ? tokens_[pos_ - 1].end : begin;
    result_.skipped.push_back(CollapseWhitespace(text_.substr(begin, end - begin)));
  }

  // Words and dots: the material of phrases (display names) and local parts.
  // Which one it is depends on the token that follows, so they are
  // collected first and interpreted afterwards.
  void SkipWords() {
    while (AtWord() || AtSpecial('.')) ++pos_;
  }

  // A top-level element: a mailbox or a group.
  bool ParseElement() {
    size_t first = pos_;
    SkipWords();
    if (AtSpecial(':') && pos_ > first) {
      ++pos_;
      return ParseGroupMembers();
    }
    return FinishMailbox(first, pos_, /*in_group=*/false);
  }

  // After "name:". Members are added as they parse, so an error later in
  // the group loses nothing that came before it.
  bool ParseGroupMembers() {
    for (;;) {
      // A group left open at the end of the text is accepted: the intent is
      // clear and nothing is lost by being lenient.
      if (AtEnd()) return true;
      if (AtSpecial(';')) {
        ++pos_;
        return AtElementEnd(/*in_group=*/false);
      }
      if (AtSpecial(',')) {
        ++pos_;
        continue;
      }
      size_t start = pos_;
      SkipWords();
      if (!FinishMailbox(start, pos_, /*in_group=*/true)) {
        Recover(start, /*in_group=*/true);
      }
    }
  }

  // The words in [first, last) have been skipped; the current token decides
  // what they were: a display name before '<', a local part before '@', or
  // an unqualified address on their own.
  bool FinishMailbox(size_t first, size_t last, bool in_group) {
    Mailbox mb;
    if (AtSpecial('<')) {
      mb.display_name = PhraseText(first, last);
      if (!ParseAngleAddr(&mb)) return false;
    } else {
      if (!LocalPart(first, last, &mb)) return false;
      if (AtSpecial('@')) {
        ++pos_;
        if (!ParseDomain(&mb.domain)) return false;
      }
    }
    // Anything left before the separator ("Joe <a@x> junk") spoils the
    // whole element: guessing which part was meant is how mail gets lost.
    if (!AtElementEnd(in_group)) return false;
    result_.mailboxes.push_back(std::move(mb));
    return true;
  }

  // At '<'. Parses [obs-route] local-part ["@" domain] ">".
  bool ParseAngleAddr(Mailbox* mb) {
    ++pos_;
    if ((AtSpecial('@') || AtSpecial(',')) && !SkipRoute()) return false;
    size_t first = pos_;
    SkipWords();
    if (!LocalPart(first, pos_, mb)) return false;
    if (AtSpecial('@')) {
      ++pos_;
      if (!ParseDomain(&mb->domain)) return false;
    }
    if (!AtSpecial('>')) return false;
    ++pos_;
    return true;
  }

  // obs-route: "@r1,@r2:". Source routes are obsolete and ignored by every
  // MTA (RFC 5321 section 3.3); we only need to step over them.
  bool SkipRoute() {
    bool any = false;
    for (;;) {
      if (AtSpecial(',')) {
        ++pos_;
      } else if (AtSpecial('@')) {
        ++pos_;
        std::string ignored;
        if (!ParseDomain(&ignored)) return false;
        any = true;
      } else if (AtSpecial(':') && any) {
        ++pos_;
        return true;
      } else {
        return false;
      }
    }
  }

  // A local part is words with dots. Dots may be doubled, leading or
  // trailing ("john..doe", "john.") because such addresses exist and MTAs
  // deliver them; but two words with no dot between them ("Joe Smith") are
  // a display name that lost its address, and that is an error.
  bool LocalPart(size_t first, size_t last, Mailbox* mb) const {
    bool any_word = false;
    bool prev_word = false;
    std::string local;
    for (size_t i = first; i < last; ++i) {
      const Token& t = tokens_[i];
      bool word = t.kind != TokenKind::kSpecial;
      if (word && prev_word) return false;
      prev_word = word;
      any_word = any_word || word;
      AppendUnfolded(TextOf(t), &local);
    }
    if (!any_word) return false;
    mb->local_part = std::move(local);
    mb->qualify_at = tokens_[last - 1].end;
    return true;
  }

  // domain = dot-atom / domain-literal (obs-domain allows CFWS around the
  // dots, which the tokenizer already removed). Unlike local parts, empty
  // labels are refused: no DNS name has them.
  bool ParseDomain(std::string* out) {
    if (AtKind(TokenKind::kLiteral)) {
      // Whitespace inside a literal is FWS, not content.
      for (char c : TextOf(Current())) {
        if (!IsWhitespace(static_cast<unsigned char>(c))) out->push_back(c);
      }
      ++pos_;
      return true;
    }
    if (!AtKind(TokenKind::kAtom)) return false;
    out->append(TextOf(Current()));
    ++pos_;
    while (AtSpecial('.')) {
      ++pos_;
      if (!AtKind(TokenKind::kAtom)) return false;
      out->push_back('.');
      out->append(TextOf(Current()));
      ++pos_;
    }
    return true;
  }

  // The display name from the tokens in [first, last): quoted strings lose
  // their quotes and escapes, words are separated by one space where the
  // text had whitespace or a comment between them.
  std::string PhraseText(size_t first, size_t last) const {
    std::string raw;
    for (size_t i = first; i < last; ++i) {
      const Token& t = tokens_[i];
      if (t.space_before && !raw.empty()) raw.push_back(' ');
      std::string_view s = TextOf(t);
      if (t.kind == TokenKind::kQuoted) {
        AppendUnquoted(s.substr(1, s.size() - 2), &raw);
      } else {
        raw.append(s);
      }
    }
    return CollapseWhitespace(raw);
  }

  static void AppendUnquoted(std::string_view s, std::string* out) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out->push_back(s[i]);
    }
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  AddressList result_;
};

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && IsWhitespace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsWhitespace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

// For quoting user input in a message: control bytes become '?' so that an
// error message cannot itself inject a line into a log or a bounce.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back(IsControl(static_cast<unsigned char>(c)) ? '?' : c);
  }
  return out;
}

// A letter, digit, or a byte of a UTF-8 (internationalized) label.
bool IsLetDig(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// RFC 5321 4.1.2 Domain: labels of letters, digits and inner hyphens.
bool ValidDomainName(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!IsLetDig(label.front()) || !IsLetDig(label.back())) return false;
    for (char c : label)
      if (!IsLetDig(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// "" when lit (brackets included) is "[IPv4]" or "[IPv6:address]", else
// the problem. General address literals ("[tag:text]") are refused: no
// smarthost can deliver to one.
std::string AddressLiteralProblem(std::string_view lit) {
  std::string inner(lit.substr(1, lit.size() >= 2 ? lit.size() - 2 : 0));
  unsigned char addr[16];
  bool v6 = inner.size() > 5 && (inner.compare(0, 5, "IPv6:") == 0 || inner.compare(0, 5, "ipv6:") == 0 ||
                                 inner.compare(0, 5, "IPV6:") == 0);
  bool ok = lit.size() >= 2 && lit.front() == '[' && lit.back() == ']' &&
            (v6 ? inet_pton(AF_INET6, inner.c_str() + 5, addr) == 1 : inet_pton(AF_INET, inner.c_str(), addr) == 1);
  if (ok) return "";
  return "a bad address literal \"" + Printable(lit.substr(0, 100)) + "\" (not an IPv4 or IPv6 address)";
}

// The problem with one hop of a source route (the text after its "@"),
// or "".
std::string RouteHopProblem(std::string_view hop, bool at) {
  if (hop.empty()) return "an empty domain in the source route";
  std::string quoted = "\"" + Printable(hop.substr(0, 100)) + "\"";
  if (!at) return "a bad domain " + quoted + " in the source route (each hop is @domain)";
  if (hop.front() == '[') {
    if (AddressLiteralProblem(hop).empty()) return "";
    return "a bad address literal " + quoted + " in the source route";
  }
  if (!ValidDomainName(hop)) return "a bad domain " + quoted + " in the source route";
  return "";
}

// path starts with '@' and holds a ':': an RFC 5321 source route,
// "@hop,@hop:mailbox". Checks every hop and sets *mailbox to what follows
// the route. Returns the problem, or "".
std::string StripSourceRoute(std::string_view path, std::string_view* mailbox) {
  size_t i = 0;
  for (;;) {
    bool at = i < path.size() && path[i] == '@';
    if (at) ++i;
    size_t end = i;
    // A hop ends at ',' or ':' outside a domain literal.
    while (end < path.size() && path[end] != ',' && path[end] != ':') {
      if (path[end] == '[') {
        end = path.find(']', end);
        if (end == std::string_view::npos) return "an unterminated domain literal in the source route";
      }
      ++end;
    }
    std::string problem = RouteHopProblem(path.substr(i, end - i), at);
    if (!problem.empty()) return problem;
    if (end == path.size()) return "a source route with no ':' before the mailbox";
    if (path[end] == ':') {
      *mailbox = path.substr(end + 1);
      return mailbox->empty() ? "a source route with no mailbox" : "";
    }
    i = end + 1;
  }
}

bool IsSourceRoute(std::string_view path) {
  return !path.empty() && path.front() == '@' && path.find(':') != std::string_view::npos;
}

}  // namespace

std::string Mailbox::addr_spec() const {
  if (domain.empty()) return local_part;
  return local_part + "@" + domain;
}

AddressList ParseAddressList(std::string_view text) {
  return Parser(text).Run();
}

std::string QualifyAddresses(std::string_view text, std::string_view domain) {
  // "root@" would turn an unqualified address into an invalid one; without
  // a domain the best we can do is to leave the text alone.
  if (domain.empty()) return std::string(text);
  AddressList list = ParseAddressList(text);
  std::string out;
  out.reserve(text.size() + list.mailboxes.size() * (domain.size() + 1));
  size_t copied = 0;
  for (const Mailbox& mb : list.mailboxes) {
    // Offsets come from the parse in increasing order; the range check only
    // guards against a parser bug turning into an out-of-range read.
    if (!mb.domain.empty() || mb.qualify_at < copied ||
        mb.qualify_at > text.size()) {
      continue;
    }
    out.append(text.substr(copied, mb.qualify_at - copied));
    out.push_back('@');
    out.append(domain);
    copied = mb.qualify_at;
  }
  out.append(text.substr(copied));
  return out;
}

Status ParseSenderArgument(std::string_view value, std::string* sender) {
  std::string_view v = TrimWhitespace(value);
  if (v.empty() || v == "<>") {
    if (sender != nullptr) sender->clear();
    return Status::Ok();
  }
  // "<@a:>" and "@a:" hold a route and no mailbox: that is an error, not
  // the null sender, and a route is checked as SMTP paths are.
  std::string_view inner = v;
  if (inner.size() >= 2 && inner.front() == '<' && inner.back() == '>') inner = inner.substr(1, inner.size() - 2);
  if (IsSourceRoute(inner)) {
    std::string problem = StripSourceRoute(inner, &v);
    if (!problem.empty()) return Status::Usage("sender \"" + Printable(value) + "\": " + problem);
  }
  AddressList list = ParseAddressList(v);
  if (list.mailboxes.empty()) {
    return Status::Usage("no address in sender \"" + Printable(v) + "\"");
  }
  const Mailbox& mb = list.mailboxes.front();
  if (!mb.domain.empty() && mb.domain.front() == '[') {
    std::string problem = AddressLiteralProblem(mb.domain);
    if (!problem.empty()) return Status::Usage("sender \"" + Printable(value) + "\": " + problem);
  }
  if (sender != nullptr) *sender = mb.addr_spec();
  return Status::Ok();
}

Status CheckEnvelopeAddress(std::string_view address) {
  if (address.empty()) return Status::Usage("empty address");
  // Line breaks and NUL are named because they are the ones used to smuggle
  // extra SMTP commands or header lines; say so plainly in the error.
  for (char ch : address) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n') {
      return Status::Usage("address contains a line break");
    }
    if (c == '\0') return Status::Usage("address contains a NUL byte");
    if (IsControl(c)) {
      return Status::Usage("address contains a control character");
    }
  }
  if (address.size() > kMaxAddressLength) {
    return Status::Usage("address longer than " +
                         std::to_string(kMaxAddressLength) + " characters: \"" +
                         Printable(address.substr(0, 64)) + "...\"");
  }
  return Status::Ok();
}

namespace {

// The first thing in an SMTP path that an addr-spec cannot hold, named for
// the reply; "" when the text is lexically fine.
std::string PathLexicalProblem(std::string_view path) {
  bool quoted = false, literal = false;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (quoted) {
      if (c == '\\') ++i;  // a quoted-pair
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '\\') return "a backslash outside a quoted string";
    if (IsWhitespace(static_cast<unsigned char>(c))) return "white space outside a quoted string";
    if (c == '(' || c == ')') return "a parenthesis (comment) outside a quoted string";
    if (literal) {
      if (c == '[') return "'[' inside a domain literal";
      if (c == ']') literal = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '[') literal = true;
    else if (std::string_view("<>,:;]").find(c) != std::string_view::npos)
      return std::string("'") + c + "' outside a quoted string";
  }
  if (quoted) return "an unbalanced quote";
  if (literal) return "an unterminated domain literal";
  return "";
}

}  // namespace

Status ParseEnvelopePath(std::string_view path, std::string* address) {
  Status s = CheckEnvelopeAddress(path);
  if (!s.ok()) return s;
  std::string problem = PathLexicalProblem(path);
  if (!problem.empty()) return Status::Usage(problem);
  AddressList list = ParseAddressList(path);
  if (list.errors > 0 || list.mailboxes.size() != 1 || !list.mailboxes[0].display_name.empty())
    return Status::Usage("not an address (local-part@domain)");
  const std::string& domain = list.mailboxes[0].domain;
  if (!domain.empty() && domain.front() == '[') {
    problem = AddressLiteralProblem(domain);
    if (!problem.empty()) return Status::Usage(problem);
  }
  if (address != nullptr) *address = std::string(path);
  return Status::Ok();
}

Status ParseSmtpPath(std::string_view path, std::string* address) {
  std::string_view mailbox = path;
  if (IsSourceRoute(path)) {
    Status s = CheckEnvelopeAddress(path);
    if (!s.ok()) return s;
    std::string problem = StripSourceRoute(path, &mailbox);
    if (!problem.empty()) return Status::Usage(problem);
  }
  if (mailbox.empty()) {
    if (address != nullptr) address->clear();
    return Status::Ok();
  }
  return ParseEnvelopePath(mailbox, address);
}

std::string Qualified(const std::string& addr, const std::string& domain) {
  return addr.find('@') == std::string::npos ? addr + "@" + domain : addr;
}

}  // namespace relay
