// relayctl's queue commands (see relayctl(8)): queue, show, flush, retry,
// hold, release, delete, bounce, status. Each takes the parsed config and
// its arguments and returns an exit status; they run as the spool owner.
#ifndef RELAY_ADMIN_RELAYCTL_ADMIN_H_
#define RELAY_ADMIN_RELAYCTL_ADMIN_H_

#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/host.h"

namespace relay {

// The host's names and the mail domain (relay.conf's domain, else
// /etc/mailname, else the FQDN), for relayctl bounce and relayctl test:
// relayctl derives the domain here only. The Config is not changed.
struct LocalNames {
  HostNames host;
  std::string domain;
};
LocalNames GetLocalNames(const Config& cfg);

int AdminCommand(const std::string& cmd, const std::vector<std::string>& args, const Config& cfg);
bool IsAdminCommand(const std::string& cmd);

}  // namespace relay

#endif  // RELAY_ADMIN_RELAYCTL_ADMIN_H_
