// relayctl oauth: the first OAuth2 login, and the import of a token made
// elsewhere, into relay's token store (see relayctl(8), oauth).
//
//   relayctl oauth login [--device | --no-browser | --client-credentials] ...
//   relayctl oauth import --format sasl-xoauth2|mutt_oauth2|oama ... FILE|-
//
// The edge of oauth_flow.h and oauth_import.h: HTTPS to the provider with
// libcurl (verified TLS; relay.conf's oauth_ca_file, else the system's
// CAs), the loopback listener the browser is redirected to, and the token
// store (token_store.h), written as the spool's owner. Secrets come from a
// file or standard input, never from argv or the environment, and no token
// is ever printed.
#ifndef RELAY_ADMIN_OAUTH_COMMAND_H_
#define RELAY_ADMIN_OAUTH_COMMAND_H_

#include <string>
#include <vector>

#include "relay/base/config.h"

namespace relay {

// args: what follows "oauth". Returns the exit code.
int RunOAuthCommand(const Config& cfg, const std::vector<std::string>& args);

}  // namespace relay

#endif  // RELAY_ADMIN_OAUTH_COMMAND_H_
