#include "relay/base/status.h"

#include <sysexits.h>

#include <cstring>

namespace relay {

Status Status::FromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  return TempFail(std::move(msg));
}

int Status::exit_code() const {
  switch (kind_) {
    case Kind::kOk: return 0;
    case Kind::kUsage: return EX_USAGE;
    case Kind::kDataErr: return EX_DATAERR;
    case Kind::kNoUser: return EX_NOUSER;
    case Kind::kUnavailable: return EX_UNAVAILABLE;
    case Kind::kSoftware: return EX_SOFTWARE;
    case Kind::kTempFail: return EX_TEMPFAIL;
    case Kind::kNoPerm: return EX_NOPERM;
    case Kind::kConfig: return EX_CONFIG;
  }
  return EX_SOFTWARE;
}

Status Status::Prefixed(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += msg_;
  return Status(kind_, std::move(msg));
}

}  // namespace relay
