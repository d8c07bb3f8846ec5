#include "relay/queue/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/queue/spool.h"

namespace relay {

Status DropToSpoolOwner(const Config& cfg) {
  if (geteuid() != 0) return Status::Ok();
  struct stat st;
  std::string q = SpoolPaths(cfg.spool_dir).queue();
  if (stat(q.c_str(), &st) != 0) return Status::Config("cannot stat " + q + ": " + std::strerror(errno));
  if (st.st_uid == 0)
    return Status::Config(q + " belongs to root; relay does not deliver as root "
                          "(give the spool to the relay user: scripts/install-spool)");
  struct passwd* pw = getpwuid(st.st_uid);
  gid_t gid = pw ? pw->pw_gid : st.st_uid;
  if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
      setresuid(st.st_uid, st.st_uid, st.st_uid) != 0)
    return Status::Software(std::string("cannot drop privileges: ") + std::strerror(errno));
  return Status::Ok();
}

}  // namespace relay
