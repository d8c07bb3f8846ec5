// The injection parameters every message of one process shares, built in
// one place for every door: sendmail (piped and -bs), the loopback
// listener and relay-smtpd. Here, and only here, the mail domain is
// derived (relay.conf's domain, else the host's: MailDomain), with what
// counts as local, the host name, the size limit, the free-space floor
// and the aliases. Each door then adds its own fields: sendmail the
// options, the submitter and the clock; the listener the client.
#ifndef RELAY_INJECT_PARAMS_H_
#define RELAY_INJECT_PARAMS_H_

#include "relay/base/config.h"
#include "relay/base/env.h"
#include "relay/base/status.h"
#include "relay/inject/inject.h"
#include "relay/message/aliases.h"

namespace relay {

// Fills *p from the configuration and the host, and loads cfg.aliases
// into *aliases, at which p->aliases then points. An aliases file that
// cannot be read is the returned error, *p being complete all the same:
// sendmail refuses to queue, the listener goes on without aliases.
Status BaseInjectParams(Env* env, const Config& cfg, Aliases* aliases, InjectParams* p);

}  // namespace relay

#endif  // RELAY_INJECT_PARAMS_H_
