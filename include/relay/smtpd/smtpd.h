// relay-smtpd: serves one SMTP client from beyond loopback, on fd 0, as a
// child of relayd's listener (see man/relayd.8, LISTENING BEYOND
// LOOPBACK). The same SmtpServer and durable commit as the loopback
// listener, plus TLS (STARTTLS, or with --smtps a handshake before the
// greeting), and AUTH or a client certificate before MAIL.
// It links OpenSSL and libcrypt; relayd, which waits, links neither.
// Returns the exit status: SmtpdExitStatus(wrong passwords) once a session
// ran (relayd counts them per client address), or a sysexits code when it
// could not serve the client.
#ifndef RELAY_SMTPD_SMTPD_H_
#define RELAY_SMTPD_SMTPD_H_

namespace relay {

int RunSmtpd(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_SMTPD_SMTPD_H_
