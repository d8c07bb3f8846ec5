// relayctl: the admin command. See man/relayctl.8.
#ifndef RELAY_RELAYCTL_H_
#define RELAY_RELAYCTL_H_

namespace relay {

int RunRelayctl(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_RELAYCTL_H_
