// The sender the provider accepts (issue 17, item 5): which sender a
// message leaves with, and its From header rewritten to match, as
// Postfix's smtp_generic_maps and msmtp's set_from_header do. Pure: the
// policy is built by the caller (relay.conf and the sender_map file, read
// once per delivery run); the queue file is never changed, the rewrite is
// applied while the content is streamed to the smarthost.
//
// Rules (relay.conf(5), SENDER REWRITING):
// - The null sender is never rewritten (a bounce stays a bounce), and a
//   message with the null sender keeps its From header too.
// - A sender that is already allowed is left alone: the rewrite address
//   itself, the login (auth_user) when it is an address, and each entry
//   of allowed_senders ("a@x", or "@x" for a whole domain).
// - Only local senders are rewritten: no domain, or a domain that is one
//   of the local names (the mail domain, the host's name, localhost).
//   Anything else is the user's own business and goes as it is.
// - A local sender becomes sender_map's address for it (looked up as
//   "user@domain", then "user"), else sender_address.
// - The From header is rewritten only with envelope+header, only when it
//   holds exactly one mailbox and that mailbox is local by the same rules.
//   The display name, comments and folding are kept byte for byte: only
//   the address is replaced. The original address is kept in an added
//   "X-Original-From:" field (unless the message has one already), not in
//   Reply-To: replies to a local-only address could not arrive.
#ifndef RELAY_DELIVER_SENDER_REWRITE_H_
#define RELAY_DELIVER_SENDER_REWRITE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/status.h"

namespace relay {

struct SenderPolicy {
  SenderRewrite mode = SenderRewrite::kNone;
  std::string address;  // sender_address, or auth_user when it is an address
  // sender_map: lower-case key ("user" or "user@domain") -> address.
  std::map<std::string, std::string> map;
  std::vector<std::string> allowed;        // lower-case "a@x" or "@x"
  std::vector<std::string> local_domains;  // lower-case

  // Whether anything will ever be rewritten.
  bool active() const { return mode != SenderRewrite::kNone && (!address.empty() || !map.empty()); }
};

// Builds the policy from cfg: mail_domain and host_name are the local
// names (with "localhost"); the map is parsed from map_text (the
// sender_map file's content, "" when there is none).
Status MakeSenderPolicy(const Config& cfg, std::string_view mail_domain, std::string_view host_name,
                        std::string_view map_text, SenderPolicy* policy);

// Parses sender_map text: "KEY ADDRESS" lines, '#' comments, blank lines.
// KEY is a local user ("root") or a local address ("root@host"); ADDRESS
// must have an '@'. An error names the line: "LINE N: what is wrong".
Status ParseSenderMap(std::string_view text, std::map<std::string, std::string>* map);

// The address sender leaves with: "" when it is left alone (null, already
// allowed, not local, or no rewrite configured).
std::string RewrittenSender(const SenderPolicy& policy, std::string_view sender);

// The header block of a message in wire form (its lines, up to and
// including the empty line that ends it, or all of it when there is no
// body) with the From field rewritten. Returns false, *out untouched,
// when nothing changes (mode without header, no From, several From
// fields, a From that is not one local mailbox).
bool RewriteFromHeader(const SenderPolicy& policy, std::string_view head, std::string* out);

// The length of the header block at the start of content (wire form): up
// to and including the CRLF of the empty line; npos when there is no
// empty line in content (the caller reads a bounded prefix, and leaves a
// header longer than that alone).
size_t HeaderBlockSize(std::string_view content);

}  // namespace relay

#endif  // RELAY_DELIVER_SENDER_REWRITE_H_
