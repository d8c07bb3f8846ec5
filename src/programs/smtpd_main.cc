// relay-smtpd: one SMTP client from a listen_allow network; see man/relayd.8.
#include "relay/smtpd/smtpd.h"

int main(int argc, char** argv) { return relay::RunSmtpd(argc, argv); }
