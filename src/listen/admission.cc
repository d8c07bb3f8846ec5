#include "relay/listen/admission.h"

namespace relay {
namespace {

Admission Refused(RefusalReason reason, TlsMode tls, std::string_view reply) {
  Admission a;
  a.action = AdmitAction::kRefuse;
  a.reason = reason;
  if (tls != TlsMode::kSmtps) a.reply = reply;
  return a;
}

}  // namespace

Admission Admit(const AdmissionInput& in) {
  if (in.client == ClientClass::kRefused)
    return Refused(RefusalReason::kNotAllowed, in.tls, "554 5.7.1 access denied\r\n");
  bool smtpd = in.client == ClientClass::kAllowed || in.tls == TlsMode::kSmtps;
  if (smtpd && in.auth_blocked)
    return Refused(RefusalReason::kAuthFailures, in.tls,
                   "421 4.7.0 too many authentication failures; try again later\r\n");
  bool remote = in.client == ClientClass::kAllowed;
  int pool = remote ? in.remote_pool : in.loopback_pool;
  if (pool >= in.max_connections || in.same_client >= in.max_per_client)
    return Refused(RefusalReason::kPoolFull, in.tls, "421 4.7.0 too many connections; try again later\r\n");
  Admission a;
  a.action = smtpd ? AdmitAction::kStartSmtpd : AdmitAction::kServeLocal;
  a.remote = remote;
  return a;
}

std::string AdmissionLogLine(const Admission& a, const std::string& addr, int port) {
  std::string reject = "reject: connect from unknown[" + addr + "]:" + std::to_string(port) + ": ";
  switch (a.reason) {
    case RefusalReason::kNone:
      return "";
    case RefusalReason::kNotAllowed:
      return reject + "not on a listen_allow network";
    case RefusalReason::kAuthFailures:
      return reject + "too many authentication failures";
    case RefusalReason::kPoolFull:
      return "too many connections: refused " + addr + ":" + std::to_string(port);
  }
  return "";
}

}  // namespace relay
