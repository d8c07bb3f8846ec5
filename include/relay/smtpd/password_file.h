// PasswordFile: the users relay-smtpd accepts AUTH from, one
// "name:hash" line each, the hash in crypt(3) form as in /etc/shadow
// (yescrypt "$y$", SHA-512 "$6$", bcrypt "$2b$": whatever libcrypt knows;
// `mkpasswd` or `openssl passwd -6` makes one). Lines starting with '#'
// and blank lines are skipped. The file belongs to the relay user, mode
// 0600, like every secret relay reads.
#ifndef RELAY_SMTPD_PASSWORD_FILE_H_
#define RELAY_SMTPD_PASSWORD_FILE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/env.h"
#include "relay/smtp/smtp_server.h"
#include "relay/base/status.h"

namespace relay {

// Pure: the lines of the file. A line that is not "name:hash" with a hash
// in crypt form is an error naming the line, so a typo cannot silently
// lock a user out (or, worse, leave an old hash in force).
Status ParsePasswordFile(std::string_view text, std::map<std::string, std::string>* users);

class PasswordFile : public ServerAuthenticator {
 public:
  static Status Load(Env* env, const std::string& path, std::unique_ptr<PasswordFile>* out);
  explicit PasswordFile(std::map<std::string, std::string> users);
  // Hashes the password with the user's salt and compares in constant
  // time. An unknown user is hashed too (see the .cc), so that the time
  // taken does not say which names exist.
  bool Check(const std::string& user, const std::string& password) override;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, std::string> users_;
  std::vector<const std::string*> hashes_;  // into users_, for unknown names
};

}  // namespace relay

#endif  // RELAY_SMTPD_PASSWORD_FILE_H_
