// The OAuth 2.0 token endpoint's HTTPS POST, made in a helper process:
// relay-https-post (src/programs/https_post_main.cc) is the one program
// that links libcurl. relay-deliver and relayctl start it only when a
// token must be fetched (at most about once an hour), so that a delivery
// run does not load libcurl and its 27 libraries for every message
// (bench/oauth_cost.sh: 5 -> 32 shared libraries, start-up 4.9 -> 14 ms
// when it was linked in). The form and the answer hold secrets: they go
// through pipes, never argv, the environment or a file.
//
// The request, on the helper's standard input (this module owns both
// formats; values hold no CR, LF or NUL):
//   url URL\n  ca FILE\n (optional)  timeout SECONDS\n
//   connect_timeout SECONDS\n  \n  then the form's bytes, to end of file
// The reply, on its standard output:
//   status HTTP-STATUS\n \n  then the body's bytes (at most 64 KiB)
// or
//   error TEXT\n           no answer came (TEXT says why, never the body)
#ifndef RELAY_DELIVER_HTTPS_POST_H_
#define RELAY_DELIVER_HTTPS_POST_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/base/config.h"
#include "relay/base/status.h"

namespace relay {

struct HttpsRequest {
  std::string url;
  std::string ca_file;  // "": the system store
  int64_t timeout = 30;          // seconds, the whole exchange
  int64_t connect_timeout = 30;  // seconds
  std::string form;
};

struct HttpsReply {
  long status = 0;          // 0: no answer (error says why)
  std::string error;
  std::string body;
};

constexpr size_t kMaxHttpsBody = 64 * 1024;

// False when a value holds CR, LF or NUL (nothing is encoded then).
bool EncodeHttpsRequest(const HttpsRequest& r, std::string* out);
bool ParseHttpsRequest(std::string_view in, HttpsRequest* r);
std::string EncodeHttpsReply(const HttpsReply& r);
bool ParseHttpsReply(std::string_view in, HttpsReply* r);

// Overwrites a string holding a secret before it is freed.
void WipeString(std::string* s);

// One HTTPS POST of a form through relay-https-post. *http_status is 0
// when no answer came (*transport_error says why). A TempFail only when
// the helper cannot be run or dies; the body is never logged.
Status PostForm(const Config& cfg, const std::string& url, const std::string& form, long* http_status,
                std::string* response, std::string* transport_error);

}  // namespace relay

#endif  // RELAY_DELIVER_HTTPS_POST_H_
