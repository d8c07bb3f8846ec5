// relay-deliver: one delivery run; see man/relayd.8.
#include "relay/deliver/deliver.h"

int main(int argc, char** argv) { return relay::RunDeliver(argc, argv); }
