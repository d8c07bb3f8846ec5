// relay-deliver: one delivery run over the queue (see relayd(8)). It is the
// only program that links OpenSSL, libsasl2 and c-ares and the only one
// that reads the smarthost secret; relayd starts it when something is due
// and it exits when the queue is idle, so that the daemon that waits most
// of its life holds neither the libraries nor the secret.
#ifndef RELAY_DELIVER_DELIVER_H_
#define RELAY_DELIVER_DELIVER_H_

namespace relay {

int RunDeliver(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_DELIVER_DELIVER_H_
