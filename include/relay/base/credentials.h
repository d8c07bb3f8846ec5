// The smarthost secret: read by relay-deliver only (never by sendmail),
// from a file only the relay user can read, or from a command's output
// (keyrings, systemd credentials, OAuth 2.0 token helpers).
#ifndef RELAY_BASE_CREDENTIALS_H_
#define RELAY_BASE_CREDENTIALS_H_

#include <string>

#include "relay/base/config.h"
#include "relay/base/status.h"

namespace relay {

// auth_password_file may name a systemd credential as %d/NAME: %d is
// $CREDENTIALS_DIRECTORY, which systemd sets for a service with
// LoadCredential=NAME:SOURCE (as systemd.exec(5) expands %d in a unit).
// Pure: credentials_directory is the variable's value, or null when it is
// unset. Any other value is returned as it is. A %d/ value with no usable
// variable is a Config-kind status (exit 78) that names the variable and
// the recipe.
Status ExpandCredentialPath(const std::string& value, const char* credentials_directory,
                            std::string* path);

// The file auth_password_file names, %d/ expanded from this process's
// $CREDENTIALS_DIRECTORY.
Status SecretFilePath(const Config& cfg, std::string* path);

// Refuses a password file that others could read or change: it must be a
// regular file, not group- or world-accessible. The message names the
// chmod to run. A Config-kind status on failure.
Status CheckSecretFile(const std::string& path, const std::string& key = "auth_password_file");

// At start (relayd, relay-deliver): when auth_password_file is set, the
// file it names (SecretFilePath) passes CheckSecretFile, so a secret
// others can read stops the program at once instead of at each delivery.
Status CheckConfiguredSecret(const Config& cfg);

// Loads the secret for one connection: the file's first line, or the first
// line of auth_password_command's output. The command runs through /bin/sh
// as the relay user with an empty environment (PATH only) and no access to
// the secret through argv or environment; a non-zero exit is temporary.
Status LoadSecret(const Config& cfg, std::string* secret);

}  // namespace relay

#endif  // RELAY_BASE_CREDENTIALS_H_
