#include "relay/deliver/https_post.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "relay/base/env.h"
#include "relay/base/strings.h"

extern char** environ;

namespace relay {
namespace {

bool Clean(std::string_view v) { return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

bool Number(std::string_view v, int64_t* n) {
  if (v.empty() || v.size() > 12) return false;
  *n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    *n = *n * 10 + (c - '0');
  }
  return true;
}

// Writes all of data to fd, then closes it; false on error.
bool WriteAndClose(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(fd);
  return off == data.size();
}

// Reads fd to its end, or until deadline_ms passes (false then).
bool ReadAll(int fd, std::string* out, int64_t deadline_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  char buf[8192];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    if (out->size() < kMaxHttpsBody + 4096) out->append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

void WipeString(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

bool EncodeHttpsRequest(const HttpsRequest& r, std::string* out) {
  if (!Clean(r.url) || !Clean(r.ca_file)) return false;
  *out = "url " + r.url + "\n";
  if (!r.ca_file.empty()) *out += "ca " + r.ca_file + "\n";
  *out += "timeout " + std::to_string(r.timeout) + "\nconnect_timeout " + std::to_string(r.connect_timeout) + "\n\n";
  *out += r.form;
  return true;
}

bool ParseHttpsRequest(std::string_view in, HttpsRequest* r) {
  *r = HttpsRequest();
  size_t end = in.find("\n\n");
  if (end == std::string_view::npos) return false;
  std::string_view head = in.substr(0, end + 1);
  r->form = std::string(in.substr(end + 2));
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl), key = line.substr(0, line.find(' '));
    std::string_view value = line.size() > key.size() ? line.substr(key.size() + 1) : std::string_view();
    head.remove_prefix(nl + 1);
    if (key == "url") r->url = std::string(value);
    else if (key == "ca") r->ca_file = std::string(value);
    else if (key == "timeout") { if (!Number(value, &r->timeout)) return false; }
    else if (key == "connect_timeout") { if (!Number(value, &r->connect_timeout)) return false; }
    else return false;
  }
  return !r->url.empty() && Clean(r->url) && Clean(r->ca_file);
}

std::string EncodeHttpsReply(const HttpsReply& r) {
  if (r.status == 0) {
    std::string why = r.error.empty() ? "no answer" : r.error;
    std::replace(why.begin(), why.end(), '\n', ' ');
    std::replace(why.begin(), why.end(), '\r', ' ');
    return "error " + why + "\n";
  }
  return "status " + std::to_string(r.status) + "\n\n" + r.body;
}

bool ParseHttpsReply(std::string_view in, HttpsReply* r) {
  *r = HttpsReply();
  if (in.substr(0, 6) == "error ") {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) return false;
    r->error = std::string(in.substr(6, nl - 6));
    if (r->error.empty()) r->error = "no answer";
    return true;
  }
  if (in.substr(0, 7) != "status ") return false;
  size_t nl = in.find("\n\n");
  int64_t status = 0;
  if (nl == std::string_view::npos || !Number(in.substr(7, nl - 7), &status) || status < 100 || status > 999)
    return false;
  r->status = static_cast<long>(status);
  r->body = std::string(in.substr(nl + 2));
  return r->body.size() <= kMaxHttpsBody;
}

Status PostForm(const Config& cfg, const std::string& url, const std::string& form, long* http_status,
                std::string* response, std::string* transport_error) {
  *http_status = 0;
  response->clear();
  transport_error->clear();
  HttpsRequest req;
  req.url = url;
  req.ca_file = cfg.oauth_ca_file;
  req.timeout = cfg.timeout_oauth;
  req.connect_timeout = std::min<int64_t>(cfg.timeout_oauth, cfg.timeout_connect);
  req.form = form;
  std::string request;
  if (!EncodeHttpsRequest(req, &request)) return Status::Config("the token endpoint or oauth_ca_file holds a line break");
  WipeString(&req.form);
  const std::string helper = HelperPath("relay-https-post");
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return Status::FromErrno(errno, "pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  char* argv[] = {const_cast<char*>("relay-https-post"), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, helper.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]);
    WipeString(&request);
    return Status::TempFail("cannot run " + helper + ": " + std::strerror(rc));
  }
  // The request is small (a pipe holds it): written whole before the reply is read.
  WriteAndClose(in[1], request);
  WipeString(&request);
  std::string reply;
  bool done = ReadAll(out[0], &reply, (req.timeout + 5) * 1000);
  close(out[0]);
  if (!done) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  HttpsReply r;
  bool parsed = done && WIFEXITED(status) && WEXITSTATUS(status) == 0 && ParseHttpsReply(reply, &r);
  WipeString(&reply);
  if (!parsed) return Status::TempFail(helper + " gave no answer" + (done ? "" : " in time"));
  *http_status = r.status;
  *transport_error = r.error;
  *response = std::move(r.body);
  WipeString(&r.body);
  return Status::Ok();
}

}  // namespace relay
