// relayctl: the admin command. See man/relayctl.8.
#ifndef RELAY_ADMIN_RELAYCTL_H_
#define RELAY_ADMIN_RELAYCTL_H_

namespace relay {

int RunRelayctl(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_ADMIN_RELAYCTL_H_
