// relay-smtpd: serves one SMTP client from beyond loopback, on fd 0, as a
// child of relayd's listener (see man/relayd.8, LISTENING BEYOND
// LOOPBACK). The same SmtpServer and durable commit as the loopback
// listener, plus STARTTLS, and AUTH or a client certificate before MAIL.
// It links OpenSSL and libcrypt; relayd, which waits, links neither.
#ifndef RELAY_SMTPD_H_
#define RELAY_SMTPD_H_

namespace relay {

int RunSmtpd(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_SMTPD_H_
