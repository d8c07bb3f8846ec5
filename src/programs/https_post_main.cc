// relay-https-post: the OAuth 2.0 token endpoint's HTTPS POST, for
// relay-deliver and relayctl (include/relay/deliver/https_post.h has the
// why and the two formats). The only program that links libcurl. It reads
// one request on standard input, makes the POST (https only, the peer and
// its name verified against the request's CA file or the system store,
// TLS 1.2 or later, no redirects, the request's timeouts) and writes the
// reply on standard output. It logs nothing: its output is the answer.
#include <curl/curl.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "relay/deliver/https_post.h"

namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > relay::kMaxHttpsBody) return 0;  // curl stops: CURLE_WRITE_ERROR
  out->append(data, size * n);
  return size * n;
}

relay::HttpsReply Post(const relay::HttpsRequest& req) {
  relay::HttpsReply reply;
  CURL* curl = curl_easy_init();
  if (!curl) {
    reply.error = "cannot start libcurl";
    return reply;
  }
  char err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!req.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(req.timeout));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(req.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.form.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "relay");
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = std::string(curl_easy_strerror(rc)) + (err[0] ? std::string(": ") + err : "");
    relay::WipeString(&reply.body);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

}  // namespace

int main() {
  std::string in;
  char buf[8192];
  for (ssize_t n; (n = read(0, buf, sizeof buf)) > 0;) in.append(buf, static_cast<size_t>(n));
  relay::HttpsRequest req;
  if (!relay::ParseHttpsRequest(in, &req)) {
    std::fputs("relay-https-post: not a request (it is run by relay-deliver and relayctl)\n", stderr);
    return EX_USAGE;
  }
  relay::WipeString(&in);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  relay::HttpsReply reply = Post(req);
  relay::WipeString(&req.form);
  std::string out = relay::EncodeHttpsReply(reply);
  relay::WipeString(&reply.body);
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = write(1, out.data() + off, out.size() - off);
    if (n <= 0) return EX_IOERR;
    off += static_cast<size_t>(n);
  }
  relay::WipeString(&out);
  return 0;
}
