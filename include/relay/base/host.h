// Facts about this host and the submitting user that sendmail needs. The
// FQDN is found without DNS (gethostname, then /etc/hosts), because
// sendmail runs once per message and must neither wait for a resolver nor
// depend on the network.
#ifndef RELAY_BASE_HOST_H_
#define RELAY_BASE_HOST_H_

#include <string>
#include <string_view>

#include "relay/base/env.h"

namespace relay {

struct HostNames {
  std::string short_name;  // gethostname() up to the first dot
  std::string fqdn;        // best fully qualified name found, else short_name
};

// Pure: the FQDN for short_name from the text of /etc/hosts: the first name
// on a line naming short_name that starts with short_name + ".". Empty when
// there is none.
std::string FqdnFromHosts(std::string_view hosts_text, std::string_view short_name);

HostNames GetHostNames(Env* env);

// The default mail domain: the first line of /etc/mailname, else the FQDN.
std::string DefaultDomain(Env* env, const HostNames& host);

// The mail domain in force: relay.conf's `domain` when set (configured),
// else DefaultDomain.
std::string MailDomain(Env* env, const std::string& configured, const HostNames& host);

}  // namespace relay

#endif  // RELAY_BASE_HOST_H_
