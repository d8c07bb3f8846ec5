// relayd and relayctl never work as root: started as root they become the
// owner of the spool (the relay user) before reading any secret or queue
// file. A spool that belongs to root is refused rather than served as root.
#ifndef RELAY_QUEUE_PRIVILEGES_H_
#define RELAY_QUEUE_PRIVILEGES_H_

#include "relay/base/config.h"
#include "relay/base/status.h"

namespace relay {

Status DropToSpoolOwner(const Config& cfg);

}  // namespace relay

#endif  // RELAY_QUEUE_PRIVILEGES_H_
