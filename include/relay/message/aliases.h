// The aliases file (/etc/aliases) and alias expansion of local recipients.
//
// Format, as in aliases(5): "name: target, target" lines; a line starting
// with a space or tab continues the previous one; '#' starts a comment line;
// names are matched case-insensitively. Targets are RFC 5322 address lists.
// relay delivers nothing locally, so "|command", "/file" and ":include:"
// targets are problems (reported by newaliases, skipped at expansion).
// A "*" entry (dma's extension) catches every local recipient with no alias.
// A name defined twice keeps its first definition (the second is a
// problem), even when the first had no usable target. Quoted names and
// names with "@domain" are problems. Sendmail's "\user" target is kept: it
// is delivered to user (qualified) without further alias expansion.
#ifndef RELAY_MESSAGE_ALIASES_H_
#define RELAY_MESSAGE_ALIASES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/env.h"
#include "relay/base/host.h"
#include "relay/base/status.h"

namespace relay {

struct AliasProblem {
  int line = 0;         // 1-based line number in the aliases file
  std::string message;  // what is wrong, e.g. "pipe target \"|cmd\" not supported"
};

// What counts as local: an address with no domain, or whose domain matches
// (case-insensitively) one of local_domains ("localhost" and the host's own
// names). Unaliased local recipients are qualified with `domain`.
struct LocalPolicy {
  std::string domain;
  std::vector<std::string> local_domains;
};

// What counts as local for the aliases: "localhost" and this host's names;
// unaliased local recipients are qualified with domain.
LocalPolicy LocalPolicyFor(const std::string& domain, const HostNames& host);

class Aliases {
 public:
  // Parses the text of an aliases file. Problems are appended to problems
  // (when non-null); bad lines or targets are skipped, the rest is kept.
  static Aliases Parse(std::string_view text, std::vector<AliasProblem>* problems);

  bool empty() const { return map_.empty(); }
  // Number of alias names defined (including "*").
  size_t size() const { return map_.size(); }

  // Expands one envelope recipient. A non-local address comes back as it is.
  // A local one is looked up by its local part (lower-cased); its targets
  // are expanded in turn (recursively, depth-limited). A name met again
  // inside its own expansion is not expanded again but delivered as a final
  // recipient (so "root: root, admin@x" works). A local name with no alias
  // goes to the "*" entry if there is one (once per expansion), else is
  // qualified with policy.domain. The result is de-duplicated
  // (case-insensitively), in first-seen order, and never empty.
  std::vector<std::string> Expand(std::string_view recipient,
                                  const LocalPolicy& policy) const;

  // True when address is local under policy (see LocalPolicy).
  static bool IsLocal(std::string_view address, const LocalPolicy& policy);

 private:
  std::map<std::string, std::vector<std::string>> map_;  // name -> targets
};

// Reads and parses the aliases file at path. A missing file means no
// aliases (OK); a file that cannot be read is a TempFail status and leaves
// *aliases empty. Problems are appended to problems when non-null.
Status LoadAliasesFile(Env* env, const std::string& path, Aliases* aliases,
                       std::vector<AliasProblem>* problems);

}  // namespace relay

#endif  // RELAY_MESSAGE_ALIASES_H_
