// relayd: the queue runner. See man/relayd.8.
#include "relay/relayd/relayd.h"

int main(int argc, char** argv) { return relay::RunRelayd(argc, argv); }
