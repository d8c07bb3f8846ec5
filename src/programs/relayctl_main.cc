// relayctl: see man/relayctl.8.
#include "relay/admin/relayctl.h"

int main(int argc, char** argv) { return relay::RunRelayctl(argc, argv); }
