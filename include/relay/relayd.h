// relayd, the queue runner. See man/relayd.8.
#ifndef RELAY_RELAYD_H_
#define RELAY_RELAYD_H_

namespace relay {

// Runs relayd and returns its exit status.
int RunRelayd(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_RELAYD_H_
