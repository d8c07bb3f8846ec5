#include "relay/inject/params.h"

#include "relay/base/host.h"
#include "relay/queue/spool.h"

namespace relay {

Status BaseInjectParams(Env* env, const Config& cfg, Aliases* aliases, InjectParams* p) {
  HostNames host = GetHostNames(env);
  p->domain = MailDomain(env, cfg.domain, host);
  p->hostname = host.fqdn;
  p->local = LocalPolicyFor(p->domain, host);
  p->size_limit = cfg.message_size_limit;
  SpoolPaths paths(cfg.spool_dir);
  uint64_t min_free = cfg.spool_min_free;
  p->space_check = [paths, min_free] { return CheckSpoolSpace(paths, min_free); };
  p->aliases = aliases;
  return LoadAliasesFile(env, cfg.aliases, aliases, nullptr);
}

}  // namespace relay
