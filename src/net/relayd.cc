#include "relay/relayd.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "relay/config.h"
#include "relay/env.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {

// A stub until the queue runner lands: it checks its configuration, so that
// packaging and scripts can already call it, and says it does not deliver.
int RunRelayd(int argc, char** argv) {
  std::string config = RELAY_DEFAULT_CONFIG;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-C") == 0 && i + 1 < argc) config = argv[++i];
  }
  Config cfg;
  Status s = LoadConfig(Env::Default(), config, &cfg);
  if (!s.ok()) {
    std::fprintf(stderr, "relayd: %s\n", s.message().c_str());
    return s.exit_code();
  }
  std::fprintf(stderr, "relayd: delivery is not implemented in this version\n");
  return Status::Unavailable("").exit_code();
}

}  // namespace relay
