// relayctl oauth import: the token files other OAuth2 helpers leave behind,
// read into what relay's token store needs (pure: text in, fields out).
//
//   sasl-xoauth2  the JSON token file Postfix's plugin rewrites in place:
//                 {"access_token", "refresh_token", "expiry" (unix seconds,
//                 as a string)} and optionally client_id, client_secret,
//                 token_endpoint; /etc/sasl-xoauth2.conf gives the client
//                 for token files that name none.
//   mutt_oauth2   mutt_oauth2.py's token file (neomutt contrib): JSON with
//                 registration (google | microsoft), email, client_id,
//                 client_secret, tenant, refresh_token, access_token and
//                 access_token_expiration (local time without a zone, so
//                 it is not carried over: relay refreshes at first use).
//                 It is normally GPG-encrypted; relay decrypts nothing.
//   oama          oama's AuthRecord: JSON with email, service (google |
//                 microsoft), scope, refresh_token, access_token,
//                 token_type, exp_date ("YYYY-MM-DD HH:MM UTC"),
//                 expires_in. oama keeps it GPG-encrypted in
//                 ~/.local/var/oama/EMAIL.oama or in the keyring (secret-tool);
//                 its client id and secret are in oama's config, not in it.
#ifndef RELAY_ADMIN_OAUTH_IMPORT_H_
#define RELAY_ADMIN_OAUTH_IMPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/status.h"

namespace relay {

enum class TokenFileFormat { kSaslXoauth2, kMuttOauth2, kOama };

const char* TokenFileFormatName(TokenFileFormat f);
bool ParseTokenFileFormat(std::string_view name, TokenFileFormat* out);

struct ImportedToken {
  std::string provider;  // gmail, microsoft365, outlook; "" when unknown
  std::string tenant;    // Microsoft's, from the token endpoint or the file
  std::string client_id;
  std::string client_secret;
  std::string token_endpoint;  // "" : the provider's
  std::string scope;
  std::string refresh_token;
  std::string access_token;
  int64_t access_expiry = 0;  // unix seconds; 0: unknown (refreshed at first use)
  std::string email;          // the account, when the file names it
  std::vector<std::string> notes;  // one line each, for the user
};

// True when text is OpenPGP data (binary packets or ASCII armour).
bool LooksGpgEncrypted(std::string_view text);

// Parses a token file of the given format. name is the file's name for
// messages. Refuses, with one line naming what is wrong (never a token):
// GPG-encrypted input (with the command that decrypts it), text that is
// not a JSON object, no refresh token, fields of the wrong type.
Status ParseTokenFile(TokenFileFormat format, std::string_view text, std::string_view name, ImportedToken* out);

// Fills what the token file left out from sasl-xoauth2's own config
// (/etc/sasl-xoauth2.conf: client_id, client_secret, token_endpoint).
Status MergeSaslXoauth2Conf(std::string_view conf_text, std::string_view name, ImportedToken* token);

// The provider and tenant a token endpoint belongs to (Google's, or
// login.microsoftonline.com/TENANT/...); false when it is neither.
bool ProviderOfTokenEndpoint(std::string_view endpoint, std::string* provider, std::string* tenant);

}  // namespace relay

#endif  // RELAY_ADMIN_OAUTH_IMPORT_H_
