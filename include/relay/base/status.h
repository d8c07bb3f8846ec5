// Status: the result of an operation that can fail, saying what went wrong
// and how the caller should treat it. Modelled on leveldb's Status, but the
// error kinds are the sysexits(3) classes, because that is the contract every
// program in relay ends up keeping with its caller: cron, PHP and the rest
// decide from the exit code whether the mail is safe, lost, or to be retried.
#ifndef RELAY_BASE_STATUS_H_
#define RELAY_BASE_STATUS_H_

#include <string>
#include <string_view>

namespace relay {

class Status {
 public:
  // One value per sysexits class relay uses. The order has no meaning.
  enum class Kind {
    kOk,
    kUsage,        // EX_USAGE: the command line is wrong.
    kDataErr,      // EX_DATAERR: the input cannot be a message.
    kNoUser,       // EX_NOUSER: an address that cannot exist.
    kUnavailable,  // EX_UNAVAILABLE: a service needed is not there.
    kSoftware,     // EX_SOFTWARE: a bug in relay.
    kTempFail,     // EX_TEMPFAIL: try again later; nothing was accepted.
    kNoPerm,       // EX_NOPERM: not allowed.
    kConfig,       // EX_CONFIG: relay.conf or the aliases are wrong.
  };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status Usage(std::string msg) { return {Kind::kUsage, std::move(msg)}; }
  static Status DataErr(std::string msg) { return {Kind::kDataErr, std::move(msg)}; }
  static Status NoUser(std::string msg) { return {Kind::kNoUser, std::move(msg)}; }
  static Status Unavailable(std::string msg) {
    return {Kind::kUnavailable, std::move(msg)};
  }
  static Status Software(std::string msg) { return {Kind::kSoftware, std::move(msg)}; }
  static Status TempFail(std::string msg) { return {Kind::kTempFail, std::move(msg)}; }
  static Status NoPerm(std::string msg) { return {Kind::kNoPerm, std::move(msg)}; }
  static Status Config(std::string msg) { return {Kind::kConfig, std::move(msg)}; }

  // The one place errno becomes a Status. Any failure to read or write the
  // spool is temporary: the disk may be emptied, the permission fixed, the
  // device replaced, and the caller still holds the message.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  // True when retrying later may succeed (EX_TEMPFAIL).
  bool temporary() const { return kind_ == Kind::kTempFail; }
  const std::string& message() const { return msg_; }

  // The sysexits(3) code for this status; 0 when ok.
  int exit_code() const;

  // A copy with "context: " put in front of the message.
  Status Prefixed(std::string_view context) const;

 private:
  Status(Kind k, std::string msg) : kind_(k), msg_(std::move(msg)) {}
  Kind kind_ = Kind::kOk;
  std::string msg_;
};

}  // namespace relay

#endif  // RELAY_BASE_STATUS_H_
