// relayctl's queue commands (see relayctl(8)): queue, show, flush, retry,
// hold, release, delete, bounce, status. Each takes the parsed config and
// its arguments and returns an exit status; they run as the spool owner.
#ifndef RELAY_ADMIN_RELAYCTL_ADMIN_H_
#define RELAY_ADMIN_RELAYCTL_ADMIN_H_

#include <string>
#include <vector>

#include "relay/base/config.h"

namespace relay {

int AdminCommand(const std::string& cmd, const std::vector<std::string>& args, const Config& cfg);
bool IsAdminCommand(const std::string& cmd);

}  // namespace relay

#endif  // RELAY_ADMIN_RELAYCTL_ADMIN_H_
