#include "relay/deliver/sender_rewrite.h"

#include <algorithm>

#include "relay/base/strings.h"
#include "relay/message/address.h"
#include "relay/message/header.h"

namespace relay {
namespace {

bool PlainAddress(std::string_view a) {
  size_t at = a.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == a.size()) return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"')
      return false;
  return true;
}

// One header field of a wire-form header block: where it starts and ends
// (its CRLF included) and the name's length.
struct FieldSpan {
  size_t begin = 0, end = 0, name_size = 0;
};

std::vector<FieldSpan> Fields(std::string_view head) {
  std::vector<FieldSpan> out;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    size_t next = eol == std::string_view::npos ? head.size() : eol + 2;
    std::string_view line = head.substr(pos, next - pos);
    size_t name_size = 0;
    if (IsContinuation(line) && !out.empty()) out.back().end = next;
    else if (IsHeaderStart(line, &name_size)) out.push_back({pos, next, name_size});
    else if (line == "\r\n") break;  // the end of the header
    pos = next;
  }
  return out;
}

// Skips a comment starting at value[i] == '(' (nested, with quoted-pairs);
// returns the index after it.
size_t SkipComment(std::string_view v, size_t i) {
  int depth = 0;
  for (; i < v.size(); ++i) {
    if (v[i] == '\\') ++i;
    else if (v[i] == '(') ++depth;
    else if (v[i] == ')' && --depth == 0) return i + 1;
  }
  return v.size();
}

size_t SkipQuoted(std::string_view v, size_t i) {
  for (++i; i < v.size(); ++i) {
    if (v[i] == '\\') ++i;
    else if (v[i] == '"') return i + 1;
  }
  return v.size();
}

bool Wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Where the one address of a From value is: inside the top-level <...>
// when there is one, else the one top-level token (outside comments).
// False when there is no such single place.
bool LocateAddress(std::string_view v, size_t* begin, size_t* end) {
  std::vector<std::pair<size_t, size_t>> tokens;
  size_t lt = std::string_view::npos, gt = std::string_view::npos;
  int angles = 0;
  for (size_t i = 0; i < v.size();) {
    char c = v[i];
    if (Wsp(c)) { ++i; continue; }
    if (c == '(') { i = SkipComment(v, i); continue; }
    if (c == '<') {
      ++angles;
      lt = i;
      gt = v.find('>', i);
      if (gt == std::string_view::npos) return false;
      i = gt + 1;
      continue;
    }
    size_t start = i;
    while (i < v.size() && !Wsp(v[i]) && v[i] != '(' && v[i] != '<')
      i = v[i] == '"' ? SkipQuoted(v, i) : i + 1;
    tokens.emplace_back(start, i);
  }
  if (angles == 1) {
    *begin = lt + 1;
    *end = gt;
    return true;
  }
  if (angles != 0 || tokens.size() != 1) return false;
  *begin = tokens[0].first;
  *end = tokens[0].second;
  return true;
}

}  // namespace

Status ParseSenderMap(std::string_view text, std::map<std::string, std::string>* map) {
  int n = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++n;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    size_t sp = line.find_first_of(" \t");
    std::string where = "line " + std::to_string(n) + ": ";
    if (sp == std::string_view::npos) return Status::Config(where + "expected \"LOCALUSER ADDRESS\"");
    std::string_view key = line.substr(0, sp), value = Trim(line.substr(sp));
    if (value.find_first_of(" \t") != std::string_view::npos)
      return Status::Config(where + "more than one address after '" + Printable(key) + "'");
    if (!PlainAddress(value))
      return Status::Config(where + "'" + Printable(value) + "' is not an address (write user@example.com)");
    if (key.back() == '@' || key.front() == '@')
      return Status::Config(where + "'" + Printable(key) + "' is not a user or an address");
    (*map)[ToLower(key)] = std::string(value);
  }
  return Status::Ok();
}

Status MakeSenderPolicy(const Config& cfg, std::string_view mail_domain, std::string_view host_name,
                        std::string_view map_text, SenderPolicy* policy) {
  SenderPolicy p;
  p.mode = cfg.sender_rewrite;
  bool login_is_address = PlainAddress(cfg.auth_user);
  p.address = !cfg.sender_address.empty() ? cfg.sender_address : login_is_address ? cfg.auth_user : "";
  if (Status s = ParseSenderMap(map_text, &p.map); !s.ok()) return s;
  p.allowed = cfg.allowed_senders;
  if (login_is_address) p.allowed.push_back(ToLower(cfg.auth_user));
  for (std::string_view d : {mail_domain, host_name, std::string_view("localhost"),
                             std::string_view("localhost.localdomain")})
    if (!d.empty()) p.local_domains.push_back(ToLower(d));
  *policy = std::move(p);
  return Status::Ok();
}

std::string RewrittenSender(const SenderPolicy& policy, std::string_view sender) {
  if (policy.mode == SenderRewrite::kNone || sender.empty()) return "";
  std::string lower = ToLower(sender);
  size_t at = lower.rfind('@');
  std::string domain = at == std::string::npos ? "" : lower.substr(at + 1);
  if (!policy.address.empty() && lower == ToLower(policy.address)) return "";
  for (const std::string& a : policy.allowed)
    if (a == lower || (a.front() == '@' && !domain.empty() && a.substr(1) == domain)) return "";
  const auto& locals = policy.local_domains;
  if (at != std::string::npos && std::find(locals.begin(), locals.end(), domain) == locals.end()) return "";
  auto it = policy.map.find(lower);
  if (it == policy.map.end() && at != std::string::npos) it = policy.map.find(lower.substr(0, at));
  std::string to = it != policy.map.end() ? it->second : policy.address;
  return ToLower(to) == lower ? "" : to;
}

bool RewriteFromHeader(const SenderPolicy& policy, std::string_view head, std::string* out) {
  if (policy.mode != SenderRewrite::kEnvelopeAndHeader) return false;
  std::vector<FieldSpan> fields = Fields(head);
  const FieldSpan* from = nullptr;
  bool has_original = false;
  for (const FieldSpan& f : fields) {
    std::string_view name = head.substr(f.begin, f.name_size);
    if (EqualsIgnoreCase(Trim(name), "From")) {
      if (from) return false;  // two From fields: not ours to pick one
      from = &f;
    }
    has_original |= EqualsIgnoreCase(Trim(name), "X-Original-From");
  }
  if (!from) return false;
  // The value: after the colon, without the field's final CRLF.
  size_t vbegin = head.find(':', from->begin + from->name_size) + 1;
  std::string_view value = head.substr(vbegin, from->end - 2 - vbegin);
  AddressList list = ParseAddressList(value);
  if (list.errors != 0 || list.mailboxes.size() != 1) return false;
  std::string original = list.mailboxes[0].addr_spec();
  std::string to = RewrittenSender(policy, original);
  size_t b = 0, e = 0;
  if (to.empty() || !LocateAddress(value, &b, &e)) return false;
  std::string r(head.substr(0, vbegin + b));
  r += to;
  r += head.substr(vbegin + e, from->end - (vbegin + e));
  if (!has_original) r += "X-Original-From: " + original + "\r\n";
  r += head.substr(from->end);
  *out = std::move(r);
  return true;
}

size_t HeaderBlockSize(std::string_view content) {
  if (content.substr(0, 2) == "\r\n") return 2;
  size_t p = content.find("\r\n\r\n");
  return p == std::string_view::npos ? std::string_view::npos : p + 4;
}

}  // namespace relay
