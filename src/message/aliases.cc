// The aliases file and alias expansion. Parsing is line-oriented and never
// fails as a whole: each bad line or target becomes an AliasProblem and the
// rest of the file still counts, as with Postfix's postalias. Expansion is
// bounded both in depth and in work: each alias is expanded at most once per
// call, so a file full of aliases pointing at each other costs time linear
// in its size, not exponential.
#include "relay/message/aliases.h"

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/message/address.h"
#include "relay/base/status.h"

namespace relay {
namespace {

// Deeper than this, an alias chain is almost certainly a mistake; what is
// left is delivered as it stands rather than expanded further.
constexpr int kMaxDepth = 20;

// Longest piece of a value quoted back in a problem message.
constexpr size_t kMaxQuoted = 80;

// The catch-all entry (dma's extension).
constexpr std::string_view kCatchAll = "*";

bool IsBlankChar(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlankChar(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlankChar(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == prefix;
}

// Quotes a piece of the file in a message: shortened, and with control
// characters replaced so a message stays one line.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, kMaxQuoted)) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (s.size() > kMaxQuoted) out += "...";
  out += "\"";
  return out;
}

void AddProblem(std::vector<AliasProblem>* problems, int line, std::string message) {
  if (problems != nullptr) problems->push_back({line, std::move(message)});
}

// One "name: value" entry with its continuation lines joined.
struct RawEntry {
  int line = 0;
  std::string text;
};

// Splits a file into entries. Comment lines are dropped wherever they are
// (a '#' line inside a continuation block neither ends the entry nor joins
// it); blank lines end the current entry.
std::vector<RawEntry> SplitEntries(std::string_view text,
                                   std::vector<AliasProblem>* problems) {
  std::vector<RawEntry> entries;
  bool open = false;  // whether entries.back() may still be continued
  int number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = Trim(line);
    if (trimmed.empty()) {
      open = false;
      continue;
    }
    // Like Postfix, a line whose first non-blank character is '#' is a
    // comment even when indented.
    if (trimmed.front() == '#') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!open) {
        AddProblem(problems, number, "continuation line without an alias before it");
        continue;
      }
      entries.back().text += ' ';
      entries.back().text += trimmed;
      continue;
    }
    entries.push_back({number, std::string(line)});
    open = true;
  }
  return entries;
}

// Alias names are local parts without quoting: atext and dots. Anything
// else (spaces, '@', quotes) could not be matched against an envelope
// recipient reliably, so it is refused rather than guessed at.
bool CheckName(std::string_view name, std::string* why) {
  if (name.empty()) {
    *why = "missing alias name";
    return false;
  }
  if (name.front() == '"') {
    *why = "quoted alias name " + Quoted(name) + " not supported";
    return false;
  }
  if (name.find('@') != std::string_view::npos) {
    *why = "alias name " + Quoted(name) + " has a domain; names are local parts";
    return false;
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    bool ok = u >= 0x80 || (u > 0x20 && u != 0x7f &&
                            std::string_view("()<>[]:;,\\\"").find(c) ==
                                std::string_view::npos);
    if (!ok) {
      *why = "invalid alias name " + Quoted(name);
      return false;
    }
  }
  return true;
}

// Splits a value at commas that are outside quotes and comments. Only used
// to find the targets that are not addresses; the addresses themselves are
// parsed by ParseAddressList.
std::vector<std::string_view> SplitTargets(std::string_view value) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t comment_depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\') {
      ++i;  // quoted-pair, or sendmail's "\user": the next byte is inert
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      ++comment_depth;
    } else if (c == ')' && comment_depth > 0) {
      --comment_depth;
    } else if (c == ',' && comment_depth == 0) {
      out.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start <= value.size()) out.push_back(value.substr(start));
  return out;
}

// Why a target cannot be used by a relay-only MTA, or "" when it is an
// address. Sendmail allows these targets quoted too ("\"|cmd args\"").
std::string DeliveryTargetProblem(std::string_view target) {
  std::string_view t = target;
  if (!t.empty() && t.front() == '"') t.remove_prefix(1);
  if (!t.empty() && t.front() == '|') {
    return "pipe target " + Quoted(target) +
           " not supported: relay does no local delivery";
  }
  if (!t.empty() && t.front() == '/') {
    return "file target " + Quoted(target) +
           " not supported: relay does no local delivery";
  }
  if (StartsWithNoCase(t, ":include:")) {
    return ":include: target " + Quoted(target) + " not supported";
  }
  return "";
}

// A target address must pass the envelope checks every recipient passes;
// a bad one is reported, quoted as written, and left out, while the
// entry's other targets stay.
bool UsableTarget(std::string_view name, std::string_view written, const std::string& address, int line,
                  std::vector<AliasProblem>* problems) {
  Status st = CheckEnvelopeAddress(address);
  if (st.ok()) return true;
  AddProblem(problems, line, "alias " + Quoted(name) + ": target " + Quoted(written) + ": " + st.message());
  return false;
}

// Sendmail's "\user": deliver to user without aliasing it further. Kept
// with its backslash so that Expand can treat it as a final recipient.
void AddUnaliasedTarget(std::string_view name, std::string_view target, int line,
                        std::vector<AliasProblem>* problems,
                        std::vector<std::string>* targets) {
  AddressList list = ParseAddressList(target.substr(1));
  if (list.errors > 0 || list.mailboxes.size() != 1) {
    AddProblem(problems, line,
               "alias " + Quoted(name) + ": cannot parse target " + Quoted(target));
    return;
  }
  std::string address = list.mailboxes.front().addr_spec();
  if (!UsableTarget(name, target, address, line, problems)) return;
  targets->push_back("\\" + address);
}

// Parses address targets (several, joined with commas) and appends the
// usable ones as addr-specs.
void AddAddressTargets(std::string_view name, std::string_view addresses, int line,
                       std::vector<AliasProblem>* problems,
                       std::vector<std::string>* targets) {
  AddressList list = ParseAddressList(addresses);
  if (list.errors > 0) {
    AddProblem(problems, line,
               "alias " + Quoted(name) + ": " + std::to_string(list.errors) +
                   " target(s) could not be parsed in " + Quoted(addresses));
  }
  for (const Mailbox& mb : list.mailboxes) {
    std::string address = mb.addr_spec();
    if (UsableTarget(name, address, address, line, problems)) targets->push_back(std::move(address));
  }
}

// The usable targets of one entry, in the order written. Address targets
// are parsed together with ParseAddressList, so that anything RFC 5322
// allows (display names, comments, quoted commas) works; the other kinds
// are split out first because they are not RFC 5322 at all.
std::vector<std::string> ParseTargets(std::string_view name, std::string_view value,
                                      int line, std::vector<AliasProblem>* problems) {
  std::vector<std::string> targets;
  std::string addresses;  // consecutive address targets, joined again
  auto flush = [&] {
    if (!addresses.empty()) AddAddressTargets(name, addresses, line, problems, &targets);
    addresses.clear();
  };
  for (std::string_view piece : SplitTargets(value)) {
    std::string_view t = Trim(piece);
    if (t.empty()) continue;
    std::string problem = DeliveryTargetProblem(t);
    if (!problem.empty()) {
      AddProblem(problems, line, "alias " + Quoted(name) + ": " + problem);
    } else if (t.front() == '\\') {
      flush();
      AddUnaliasedTarget(name, t, line, problems, &targets);
    } else {
      if (!addresses.empty()) addresses += ", ";
      addresses += t;
    }
  }
  flush();
  return targets;
}

// Splits an address at its last '@' outside quotes: the local part of
// "\"a@b\"@x" is "\"a@b\"". domain is empty when there is none. A quote that
// is never closed quotes nothing, so that qualifying such a name ("\"abc" +
// "@example.com") gives an address with a domain.
void SplitAddress(std::string_view address, std::string_view* local,
                  std::string_view* domain) {
  size_t at_unquoted = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 0; i < address.size(); ++i) {
    char c = address[i];
    if (quoted && c == '\\') {
      ++i;  // quoted-pair; outside quotes a backslash has no meaning
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '@' && !quoted) {
      at_unquoted = i;
    }
  }
  size_t at = quoted ? address.rfind('@') : at_unquoted;
  if (at == std::string_view::npos) {
    *local = address;
    *domain = {};
  } else {
    *local = address.substr(0, at);
    *domain = address.substr(at + 1);
  }
}

using AliasMap = std::map<std::string, std::vector<std::string>>;

// One call of Aliases::Expand. Recursion is bounded by kMaxDepth, and each
// alias is expanded at most once (done_), so the work is linear in the size
// of the alias map whatever its shape.
class Expander {
 public:
  Expander(const AliasMap& map, const LocalPolicy& policy)
      : map_(map), policy_(policy), has_catch_all_(map.count(std::string(kCatchAll)) > 0) {}

  // star_used: the catch-all is already on the path to this address, so a
  // name it produced that has no alias is final rather than caught again.
  void Visit(std::string_view address, int depth, bool star_used) {
    if (!address.empty() && address.front() == '\\') {
      // A lone backslash names nobody; it is passed through like any other
      // unusable address, for the envelope checks to refuse.
      if (address.size() == 1) {
        AddResult(std::string(address));
      } else {
        AddFinal(address.substr(1));
      }
      return;
    }
    if (!Aliases::IsLocal(address, policy_)) {
      AddFinal(address);
      return;
    }
    std::string_view local, domain;
    SplitAddress(address, &local, &domain);
    // Nothing to look up; pass it through and let the envelope checks
    // complain about it.
    if (local.empty()) {
      AddResult(std::string(address));
      return;
    }
    if (depth > kMaxDepth) {
      AddFinal(local);
      return;
    }
    std::string key = Lower(local);
    if (key != kCatchAll && map_.count(key) > 0) {
      ExpandName(key, local, depth, star_used);
    } else if (has_catch_all_ && !star_used) {
      ExpandName(std::string(kCatchAll), local, depth, /*star_used=*/true);
    } else {
      AddFinal(local);
    }
  }

  std::vector<std::string> Take() { return std::move(result_); }

 private:
  // An alias met again on its own path is final (so "root: root, admin@x"
  // keeps root); one expanded earlier in this call already contributed its
  // recipients and adds nothing new.
  void ExpandName(const std::string& key, std::string_view local, int depth,
                  bool star_used) {
    if (on_path_.count(key) > 0) {
      AddFinal(local);
      return;
    }
    if (done_.count(key) > 0) return;
    on_path_.insert(key);
    for (const std::string& target : map_.at(key)) {
      Visit(target, depth + 1, star_used);
    }
    on_path_.erase(key);
    done_.insert(key);
  }

  // A recipient that is not expanded further: qualified when local.
  void AddFinal(std::string_view address) {
    if (!Aliases::IsLocal(address, policy_)) {
      AddResult(std::string(address));
      return;
    }
    std::string_view local, domain;
    SplitAddress(address, &local, &domain);
    if (policy_.domain.empty() || local.empty()) {
      AddResult(std::string(address));
      return;
    }
    AddResult(std::string(local) + "@" + policy_.domain);
  }

  void AddResult(std::string address) {
    if (seen_.insert(Lower(address)).second) result_.push_back(std::move(address));
  }

  const AliasMap& map_;
  const LocalPolicy& policy_;
  bool has_catch_all_;
  std::set<std::string> on_path_;
  std::set<std::string> done_;
  std::set<std::string> seen_;
  std::vector<std::string> result_;
};

}  // namespace

Aliases Aliases::Parse(std::string_view text, std::vector<AliasProblem>* problems) {
  Aliases aliases;
  // Every name defined, usable or not, with the line of its first
  // definition: the first definition wins, as in Postfix, even when it
  // turned out to have no usable target.
  std::map<std::string, int> first_line;
  for (const RawEntry& entry : SplitEntries(text, problems)) {
    std::string_view line = entry.text;
    std::string why;
    if (Trim(line).front() == '"') {
      CheckName(Trim(line), &why);  // fills in the "quoted name" message
      AddProblem(problems, entry.line, why);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      AddProblem(problems, entry.line, "missing colon after alias name in " + Quoted(line));
      continue;
    }
    std::string_view raw_name = Trim(line.substr(0, colon));
    if (!CheckName(raw_name, &why)) {
      AddProblem(problems, entry.line, why);
      continue;
    }
    std::string name = Lower(raw_name);
    auto [it, inserted] = first_line.emplace(name, entry.line);
    if (!inserted) {
      AddProblem(problems, entry.line,
                 "duplicate alias " + Quoted(name) + " ignored: first defined on line " +
                     std::to_string(it->second));
      continue;
    }
    std::vector<std::string> targets =
        ParseTargets(name, line.substr(colon + 1), entry.line, problems);
    if (targets.empty()) {
      AddProblem(problems, entry.line,
                 "alias " + Quoted(name) + " has no usable target; ignored");
      continue;
    }
    aliases.map_.emplace(std::move(name), std::move(targets));
  }
  return aliases;
}

std::vector<std::string> Aliases::Expand(std::string_view recipient,
                                         const LocalPolicy& policy) const {
  Expander expander(map_, policy);
  expander.Visit(recipient, 0, /*star_used=*/false);
  std::vector<std::string> result = expander.Take();
  // Every path through Visit adds at least one recipient; this only keeps
  // the promise of a non-empty result if that ever stops being true.
  if (result.empty()) result.emplace_back(recipient);
  return result;
}

bool Aliases::IsLocal(std::string_view address, const LocalPolicy& policy) {
  std::string_view local, domain;
  SplitAddress(address, &local, &domain);
  if (domain.empty()) return true;
  std::string lower = Lower(domain);
  for (const std::string& d : policy.local_domains) {
    if (Lower(d) == lower) return true;
  }
  return false;
}

Status LoadAliasesFile(Env* env, const std::string& path, Aliases* aliases,
                       std::vector<AliasProblem>* problems) {
  *aliases = Aliases();
  std::string text;
  bool missing = false;
  Status s = env->ReadFile(path, &text, &missing);
  if (missing) return Status::Ok();
  if (!s.ok()) return s;
  *aliases = Aliases::Parse(text, problems);
  return Status::Ok();
}

LocalPolicy LocalPolicyFor(const std::string& domain, const HostNames& host) {
  return {domain, {"localhost", "localhost.localdomain", host.short_name, host.fqdn}};
}

}  // namespace relay
