// Admission: what relayd does with a client the listener just accepted,
// decided from what relayd knows at that moment, so that every rule can be
// tested without a socket. relayd's Supervisor does the I/O: it accepts,
// asks Admit(), then writes the reply and closes, or starts the child.
//
// The rules, in the order they apply:
//   1. A client neither on loopback nor on a listen_allow network is
//      refused before a word of SMTP (554), as Postfix's smtpd refuses a
//      client outside mynetworks with nothing to authenticate it.
//   2. A client that relay-smtpd would serve (one from a listen_allow
//      network, or any client of an smtps address: TLS is relay-smtpd's)
//      is refused (421) while the AUTH failure table refuses its address,
//      as Postfix's anvil limits: no new session, so no new guess.
//   3. Loopback clients and those from beyond it are counted in two pools,
//      each against listen_max_connections, so that hosts on a listen_allow
//      network cannot crowd out this host's own programs; and each address
//      against listen_max_per_client. Over either: 421.
//   4. Otherwise relay-smtpd serves it, or, for a loopback client of a
//      plain or STARTTLS address, relayd's own child (ServeClient).
// On an smtps address the client speaks TLS first, and a reply in the
// clear would reach it as a broken handshake, so a refusal there is a bare
// close (which Postfix's wrapper-mode smtpd could not word either before
// its handshake); the log line still says why.
//
// Pure: no I/O, no clock.
#ifndef RELAY_LISTEN_ADMISSION_H_
#define RELAY_LISTEN_ADMISSION_H_

#include <string>
#include <string_view>

#include "relay/base/config.h"
#include "relay/listen/listener.h"

namespace relay {

// What relayd knows about a new client when it decides.
struct AdmissionInput {
  ClientClass client = ClientClass::kLoopback;  // by its address
  TlsMode tls = TlsMode::kStartTls;             // the listening address's
  bool auth_blocked = false;  // the AUTH failure table refuses its address
  int same_client = 0;        // sessions open from the same address
  int loopback_pool = 0;      // sessions open from loopback clients
  int remote_pool = 0;        // sessions open from listen_allow clients
  int max_connections = 20;   // listen_max_connections, per pool
  int max_per_client = 10;    // listen_max_per_client
};

enum class AdmitAction {
  kServeLocal,   // loopback, not smtps: relayd's child runs ServeClient
  kStartSmtpd,   // relay-smtpd serves it (TLS, AUTH)
  kRefuse,       // write `reply` (if any) and close
};

// Why a client was refused; kNone when it is served.
enum class RefusalReason { kNone, kNotAllowed, kAuthFailures, kPoolFull };

struct Admission {
  AdmitAction action = AdmitAction::kRefuse;
  RefusalReason reason = RefusalReason::kNone;
  // Which pool the session counts in once served: true for a client from a
  // listen_allow network (its AUTH failures count against its address).
  bool remote = false;
  // The reply written before the close, with its CRLF (a string constant,
  // so it outlives the Admission); empty when the client is served, or
  // refused on an smtps address (a bare close).
  std::string_view reply;
};

Admission Admit(const AdmissionInput& in);

// The log line for a refusal (empty for a client that is served): a
// refused address as Postfix's smtpd words a rejected connect; port is the
// client's.
std::string AdmissionLogLine(const Admission& a, const std::string& addr, int port);

}  // namespace relay

#endif  // RELAY_LISTEN_ADMISSION_H_
